"""The ``redclump`` command line: one subcommand per pipeline step.

Every command writes into one work folder (default ``.redclump/`` in the current directory,
``--workdir`` to change it) and skips work whose inputs have not changed. This module is the
parser and the entry point; what each subcommand does is :mod:`redclump.commands`.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from redclump.core.selection import CUT_TERMS, PRESETS, CutTerm

from .commands import (
    DEFAULT_WORKDIR,
    WRITERS,
    CommandError,
    cmd_build,
    cmd_figures,
    cmd_infer,
    cmd_ingest,
    cmd_mock,
    cmd_report,
    cmd_select,
    cmd_serve,
    cmd_train,
    cut_flags_given,
    cut_from_args,
    writer_lock,
)
from .product_commands import cmd_export, cmd_selfunc

__all__ = ["DEFAULT_WORKDIR", "add_cut_options", "build_parser", "cut_flags_given", "cut_from_args", "main"]

log = logging.getLogger("redclump")

#: Same as redclump.data.mock.DEFAULT_STARS (tested); kept here so `--help` and `serve` do not
#: import astropy's coordinate machinery.
DEFAULT_STARS = 75_000_000
#: Same as redclump.core.networks.NETWORK_SETS (tested); kept here so `--help` does not import torch.
NETWORK_SETS = ("redclump", "paper", "paper_minibatch")


def _positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        msg = f"expected an integer, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if value <= 0:
        msg = f"expected a positive integer, got {value}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        msg = f"expected a number, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if value != value or value in (float("inf"), float("-inf")):
        msg = f"expected a finite number, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        msg = f"port must be an integer, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if not 1 <= value <= 65535:
        msg = f"port must be in 1-65535, got {value}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        msg = f"seed must be a non-negative integer, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if value < 0:
        msg = f"seed must be a non-negative integer, got {value}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workdir",
        type=Path,
        default=DEFAULT_WORKDIR,
        help="build folder where every file is written (default: .redclump)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=min(os.cpu_count() or 1, 4),
        help="local dask worker processes (1 = run in this process)",
    )
    parser.add_argument("--scheduler", default=None, help="address of an existing dask distributed scheduler")


def add_cut_options(
    parser: argparse.ArgumentParser,
    terms: Sequence[CutTerm] = CUT_TERMS,
    *,
    shown: bool = True,
    preset_help: str = "start from a published cut",
) -> None:
    """Add ``--preset`` and one option per cut term (``--dp-min`` …) to ``parser``.

    Parameters
    ----------
    parser
        The subcommand's parser.
    terms
        The table of cut terms.
    shown
        Whether ``--help`` lists the term options.
    preset_help
        ``--help``'s line for ``--preset``.
    """
    parser.add_argument("--preset", choices=tuple(PRESETS), help=preset_help)
    for term in terms:
        parser.add_argument(
            term.flag, dest=term.name, type=_finite_float, default=None, help=term.help if shown else argparse.SUPPRESS
        )


def _edges_list(text: str) -> list[float]:
    try:
        values = [_finite_float(part) for part in text.split(",")]
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if len(values) < 2 or any(b <= a for a, b in itertools.pairwise(values)):
        raise argparse.ArgumentTypeError(f"expected at least two increasing edges, got {text!r}")
    return values


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="redclump", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    sub = parser.add_subparsers(dest="command", required=True)

    _add_mock_command(sub)
    _add_train_command(sub)
    _add_infer_command(sub)
    _add_build_command(sub)
    _add_serve_command(sub)
    _add_figures_command(sub)
    _add_ingest_command(sub)
    _add_report_command(sub)
    _add_select_command(sub)
    _add_selfunc_command(sub)
    _add_export_command(sub)
    return parser


def _add_train_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="where to train")
    p.add_argument(
        "--epochs",
        type=_positive_int,
        default=200,
        help="maximum epochs per stage (early stopping usually ends sooner)",
    )
    p.add_argument("--train-seed", dest="train_seed", type=_seed, default=0, help="training seed")


def _add_networks_option(p: argparse.ArgumentParser, *, train: bool) -> None:
    p.add_argument(
        "--networks",
        choices=(*NETWORK_SETS, "both", "all"),
        default="redclump",
        help=(
            "network set: ours (redclump, default: models/, catalogue/), the authors' trained full-batch "
            "as they did (paper: models_paper/, catalogue_paper/), the authors' design trained minibatch "
            "(paper_minibatch: models_paper_minibatch/, …), both (ours and paper) or all three"
        ),
    )
    if train:
        p.add_argument(
            "--max-steps",
            dest="max_steps",
            type=_positive_int,
            default=None,
            help=(
                "full-batch steps at most per network of the paper set (default: 1.2 billion "
                "training-star steps, e.g. 6,000 on 200,000 stars; early stopping may end sooner)"
            ),
        )
        p.add_argument(
            "--time-budget",
            dest="time_budget",
            type=float,
            default=None,
            help="wall-clock seconds for all six networks of the paper set (default: no limit; 0 = no limit)",
        )


def _add_mock_command(sub: Any) -> None:
    """The ``mock`` subcommand's options."""
    p = sub.add_parser("mock", help="generate the mock Milky Way input and truth set")
    _add_common(p)
    p.add_argument(
        "--stars",
        type=_positive_int,
        default=DEFAULT_STARS,
        help=f"simulated stars before the survey selection (default {DEFAULT_STARS:,})",
    )
    p.add_argument("--seed", type=_seed, default=42, help="random seed (default 42)")
    p.add_argument(
        "--partition-size",
        type=_positive_int,
        default=1_000_000,
        help="simulated stars per Parquet partition (a multiple of 50,000)",
    )
    p.add_argument(
        "--truth-fraction",
        type=float,
        default=0.06,
        help="scales the LAMOST-like truth-set selection probability (default 0.06)",
    )
    p.add_argument(
        "--dwarf-fraction",
        type=float,
        default=0.15,
        help="fraction of simulated stars that are local dwarfs (default 0.15)",
    )
    p.add_argument("--force", action="store_true", help="regenerate even if up to date")
    p.set_defaults(func=cmd_mock)


def _add_train_command(sub: Any) -> None:
    """The ``train`` subcommand's options."""
    p = sub.add_parser("train", help="train the three MDN stages on the truth set")
    _add_common(p)
    _add_train_options(p)
    _add_networks_option(p, train=True)
    p.add_argument("--force", action="store_true", help="retrain even if up to date")
    p.set_defaults(func=cmd_train)


def _add_infer_command(sub: Any) -> None:
    """The ``infer`` subcommand's options."""
    p = sub.add_parser("infer", help="predict every input star and write the catalogue")
    _add_common(p)
    _add_networks_option(p, train=False)
    p.add_argument("--force", action="store_true", help="rebuild even if up to date")
    p.set_defaults(func=cmd_infer)


def _add_build_command(sub: Any) -> None:
    """The ``build`` subcommand's options."""
    p = sub.add_parser("build", help="mock → train → infer, skipping steps that are up to date")
    _add_common(p)
    _add_train_options(p)
    _add_networks_option(p, train=True)
    p.add_argument("--stars", type=_positive_int, default=DEFAULT_STARS, help="simulated stars for the mock")
    p.add_argument("--seed", type=_seed, default=42, help="mock random seed")
    p.add_argument("--partition-size", type=_positive_int, default=1_000_000, help=argparse.SUPPRESS)
    p.add_argument("--truth-fraction", type=float, default=0.06, help=argparse.SUPPRESS)
    p.add_argument("--dwarf-fraction", type=float, default=0.15, help=argparse.SUPPRESS)
    p.add_argument("--force", action="store_true", help="redo every step")
    p.set_defaults(func=cmd_build)


def _add_serve_command(sub: Any) -> None:
    """The ``serve`` subcommand's options."""
    p = sub.add_parser("serve", help="serve the dashboard (in the default work folder, building it first if needed)")
    _add_common(p)
    _add_train_options(p)
    p.add_argument("--port", type=_port, default=5006, help="port (default 5006)")
    p.add_argument("--address", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument(
        "--allow-websocket-origin",
        action="append",
        default=None,
        metavar="HOST[:PORT]",
        help="a browser origin allowed to connect (needed, and repeatable, with a non-loopback --address)",
    )
    p.add_argument(
        "--procs",
        type=_positive_int,
        default=None,
        help="server processes sharing the loaded catalogue (default 1; at most 4, see the README)",
    )
    p.add_argument(
        "--build",
        action="store_true",
        help="build the catalogue first if WORKDIR has none (automatic only for the default .redclump)",
    )
    p.add_argument("--stars", type=_positive_int, default=DEFAULT_STARS, help=argparse.SUPPRESS)
    p.add_argument("--seed", type=_seed, default=42, help=argparse.SUPPRESS)
    p.add_argument("--partition-size", type=_positive_int, default=1_000_000, help=argparse.SUPPRESS)
    p.add_argument("--truth-fraction", type=float, default=0.06, help=argparse.SUPPRESS)
    p.add_argument("--dwarf-fraction", type=float, default=0.15, help=argparse.SUPPRESS)
    p.add_argument("--force", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_serve)


def _add_figures_command(sub: Any) -> None:
    """The ``figures`` subcommand's options."""
    p = sub.add_parser("figures", help="write the paper-ready figure set")
    _add_common(p)
    p.add_argument("--out", type=Path, default=None, help="output folder (default: WORKDIR/figures)")
    p.add_argument("--format", choices=("pdf", "png", "svg"), default="pdf", help="file format (default pdf)")
    # The sample figures' cut (default Tier 2); its term options are as `select`'s, so not listed.
    add_cut_options(p, shown=False, preset_help="cut for the sample figures (default tier2)")
    p.add_argument("--overwrite", action="store_true", help="replace existing figure files")
    p.set_defaults(func=cmd_figures)


def _add_ingest_command(sub: Any) -> None:
    """The ``ingest`` subcommand's options."""
    p = sub.add_parser("ingest", help="validate a real file and write it as canonical Parquet")
    p.add_argument("file", type=Path, help="a .parquet, .fits, .csv or .vot file")
    p.add_argument(
        "--map",
        type=Path,
        required=True,
        help=(
            "column map (TOML); shipped: gaia_dr2_crossmatch, gaia_dr3_crossmatch, lucey2020_vizier, "
            "ting2018_lamost, vrard2016_kepler"
        ),
    )
    p.add_argument(
        "--as", dest="kind", choices=("input", "catalogue", "truthset"), default=None, help="what the file is"
    )
    p.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR, help="build folder (default: .redclump)")
    p.add_argument("--append", action="store_true", help="add the file as one more partition (many archive pieces)")
    p.set_defaults(func=cmd_ingest)


def _add_report_command(sub: Any) -> None:
    """The ``report`` subcommand's options."""
    p = sub.add_parser(
        "report", help="the network sets beside the paper: precisions, Table 1, the trade-off (markdown)"
    )
    p.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR, help="build folder (default: .redclump)")
    p.add_argument("--out", type=Path, default=None, help="write the markdown here (default: print it)")
    p.add_argument(
        "--json",
        type=Path,
        default=None,
        metavar="FILE",
        help="also write the catalogue estimates by sample, G and distance as JSON (estimates only)",
    )
    p.add_argument(
        "--curves",
        type=Path,
        default=None,
        metavar="FILE",
        help="also draw the authors' networks' validation loss against step (PNG or PDF)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p.set_defaults(func=cmd_report)


def _add_select_command(sub: Any) -> None:
    """The ``select`` subcommand's options."""
    p = sub.add_parser("select", help="write the catalogue rows that pass a cut, with its metrics")
    _add_common(p)
    add_cut_options(p)
    p.add_argument(
        "--out", type=Path, default=None, help="output file: .parquet, .fits, .vot/.xml (VOTable), .ecsv or .csv"
    )
    p.add_argument(
        "--samp", action="store_true", help="send the sample to TOPCAT, Aladin, … through a running SAMP hub"
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p.set_defaults(func=cmd_select)


def _add_selfunc_command(sub: Any) -> None:
    p = sub.add_parser(
        "selfunc", help="write a cut's selection function: HEALPix completeness maps over G or distance (FITS)"
    )
    _add_common(p)
    add_cut_options(p)
    p.add_argument("--out", type=Path, required=True, help="output .fits file (HEALPix, NESTED, Galactic)")
    p.add_argument("--by", choices=("g", "dist"), default="g", help="bins of Gaia G (default) or of RC distance")
    p.add_argument("--order", type=int, default=5, help="HEALPix order, NSIDE = 2**order (default 5: 1.8° pixels)")
    p.add_argument(
        "--edges", type=_edges_list, default=None, help="bin edges, comma-separated (mag or kpc; default 1 mag / 1 kpc)"
    )
    p.add_argument("--seed", type=_seed, default=0, help="seed of the draws behind the uncertainties")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p.set_defaults(func=cmd_selfunc)


def _add_export_command(sub: Any) -> None:
    p = sub.add_parser("export", help="write the catalogue (or the rows that pass a cut) as a HATS catalogue for lsdb")
    _add_common(p)
    add_cut_options(p, shown=False, preset_help="keep only the rows that pass a published cut (terms as for select)")
    p.add_argument("--hats", type=Path, required=True, metavar="DIR", help="the HATS catalogue folder to write")
    p.add_argument("--overwrite", action="store_true", help="replace an existing HATS catalogue at DIR")
    p.set_defaults(func=cmd_export)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.DEBUG if args.verbose else logging.INFO)
    for noisy in ("distributed", "tornado", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.INFO if args.verbose else logging.CRITICAL)
    try:
        with writer_lock(args) if args.command in WRITERS else contextlib.nullcontext():
            args.func(args)
    except CommandError as exc:
        print(f"redclump {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"redclump {args.command}: interrupted; no partial output was kept", file=sys.stderr)
        return 130
    except OSError as exc:  # a full disk, a read-only folder, a vanished file: one line, not a trace
        where = f" ({exc.filename})" if exc.filename else ""
        print(
            f"redclump {args.command}: error: {exc.strerror or exc}{where}; "
            "finished outputs are as they were, partial ones were removed",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
