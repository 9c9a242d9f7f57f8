"""The ``redclump`` command line: one subcommand per pipeline step.

Every command writes into one work folder (default ``.redclump/`` in the current directory,
``--workdir`` to change it) and skips work whose inputs have not changed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from redclump.core.selection import CUT_TERMS, PRESETS, Cut, CutTerm, cut_class
from redclump.progress import progress_bar

__all__ = ["add_cut_options", "cut_flags_given", "cut_from_args", "main"]

log = logging.getLogger("redclump")

DEFAULT_WORKDIR = Path(".redclump")
#: Same as redclump.data.mock.DEFAULT_STARS (tested); kept here so `--help` and `serve` do not
#: import astropy's coordinate machinery.
DEFAULT_STARS = 75_000_000
#: Same as redclump.core.networks.NETWORK_SETS (tested); kept here so `--help` does not import torch.
NETWORK_SETS = ("redclump", "paper", "paper_minibatch")


class CommandError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


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


@contextlib.contextmanager
def dask_client(workers: int, scheduler: str | None) -> Iterator[Any]:
    """A dask distributed client: an existing cluster, a local one, or None for in-process."""
    import distributed

    quiet = logging.getLogger("redclump").level > logging.DEBUG
    for name in ("distributed", "tornado", "asyncio"):
        logging.getLogger(name).setLevel(logging.CRITICAL if quiet else logging.INFO)
    del distributed
    if scheduler:
        from distributed import Client

        with Client(scheduler) as client:
            yield client
        return
    if workers <= 1:
        yield None
        return
    import dask
    from distributed import Client, LocalCluster

    # distributed's nannies default to MALLOC_TRIM_THRESHOLD_=65536, which makes numpy's large
    # temporary arrays page-fault on every allocation (measured: 3x the system time).
    with (
        dask.config.set(
            {
                "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
                "distributed.worker.memory.spill": False,
            }
        ),
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, memory_limit="auto"
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


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


def cmd_mock(args: argparse.Namespace) -> dict[str, Any]:
    from redclump.data import mock

    try:
        config = mock.MockConfig(
            n_stars=args.stars, seed=args.seed, truth_fraction=args.truth_fraction, dwarf_fraction=args.dwarf_fraction
        )
    except mock.MockError as exc:
        raise CommandError(str(exc)) from None
    try:
        mock.check_workdir(args.workdir)
    except mock.MockError as exc:
        raise CommandError(str(exc)) from None
    if args.partition_size % mock.BLOCK_STARS:
        raise CommandError(f"--partition-size must be a multiple of {mock.BLOCK_STARS:,}, got {args.partition_size:,}")
    existing = mock.read_manifest(args.workdir)
    if existing and existing.get("config") == mock.asdict(config) and not args.force:
        summary_path = args.workdir / "input" / "_summary.json"
        summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
        log.info("mock in %s is up to date (use --force to regenerate)", args.workdir)
        return summary
    n_parts = -(-config.n_blocks // (args.partition_size // mock.BLOCK_STARS))
    with (
        dask_client(args.workers, args.scheduler) as client,
        progress_bar(n_parts, "mock partitions", "part") as bar,
    ):
        try:
            summary = mock.write_mock(
                args.workdir, config, partition_stars=args.partition_size, client=client, progress=bar.update
            )
        except mock.MockError as exc:
            raise CommandError(str(exc)) from None
    _print_mock_summary(summary)
    return summary


def _print_mock_summary(summary: dict[str, Any]) -> None:
    mb = 1024**2
    lines = [
        f"mock: simulated {summary['simulated']:,} stars, kept {summary['kept']:,} "
        f"({100 * summary['kept_fraction']:.1f}%) with all 13 bands and a parallax",
        "  per state:     " + ", ".join(f"{k} {v:,}" for k, v in summary["per_state"].items()),
        "  per component: " + ", ".join(f"{k} {v:,}" for k, v in summary["per_component"].items()),
        "  per footprint: " + ", ".join(f"{k} {v:,}" for k, v in summary["per_footprint"].items()),
        f"  RC fraction: {100 * summary['rc_fraction_of_giants']:.1f}% of giants, "
        f"{100 * summary['rc_fraction_in_rc_box']:.1f}% in the RC box (4500-5100 K, log g 2.2-2.8)",
        f"  truth set: {summary['truthset']['stars']:,} stars, {summary['truthset']['seismic']:,} with seismic labels",
        f"  files: input {summary['input_bytes'] / mb:.1f} MB, truth set {summary['truthset_bytes'] / mb:.1f} MB",
        f"  time: {summary['seconds']:.1f} s ({summary['simulated_per_second']:,.0f} simulated stars/s)",
    ]
    print("\n".join(lines))


def _bar_factory(desc: str, total: int) -> Any:
    return progress_bar(total, desc, "epoch")


def _network_sets(args: argparse.Namespace) -> tuple[str, ...]:
    """The network sets a command works on: ours by default, ``--networks paper|paper_minibatch|both|all``."""
    choice = getattr(args, "networks", "redclump")
    return {"both": ("redclump", "paper"), "all": NETWORK_SETS}.get(choice, (choice,))


def cmd_train(args: argparse.Namespace) -> dict[str, Any]:
    from redclump import pipeline

    evaluations = {}
    for networks in _network_sets(args):
        extra: dict[str, Any] = {}
        if networks == "paper":
            if getattr(args, "max_steps", None):
                extra["paper_max_steps"] = args.max_steps
            if getattr(args, "time_budget", None) is not None:
                extra["paper_time_budget"] = args.time_budget or None
        try:
            evaluation = pipeline.train(
                args.workdir,
                networks=networks,
                device=args.device,
                seed=args.train_seed,
                epochs=args.epochs,
                force=args.force,
                progress_factory=_bar_factory,
                **extra,
            )
        except pipeline.PipelineError as exc:
            raise CommandError(str(exc)) from None
        print(pipeline.format_evaluation(evaluation))
        evaluations[networks] = evaluation
    return evaluations


def cmd_infer(args: argparse.Namespace) -> dict[str, Any]:
    from redclump import pipeline

    n_parts = len(list((args.workdir / "input").glob("*.parquet")))
    summaries = {}
    for networks in _network_sets(args):
        try:
            with (
                dask_client(args.workers, args.scheduler) as client,
                progress_bar(n_parts, f"infer partitions ({networks})", "part") as bar,
            ):
                summary = pipeline.infer(
                    args.workdir, networks=networks, client=client, force=args.force, progress=bar.update
                )
        except pipeline.PipelineError as exc:
            raise CommandError(str(exc)) from None
        where = pipeline.network_paths(args.workdir, networks).catalogue.name
        print(
            f"infer ({networks} networks): {summary['rows']:,} stars → {summary['giants']:,} giants in {where}/ "
            f"(tier 1 {summary['tier1']:,}, tier 2 {summary['tier2']:,}); {summary['bad_input']:,} rows with "
            f"non-finite inputs skipped; {summary['seconds']:.1f} s"
        )
        summaries[networks] = summary
        if "estimates" in summary:
            est = summary["estimates"]
            print(
                f"estimates: {est['twins']:,} degraded twins of {est['truth_stars']:,} test-split stars "
                f"({est['twins_in_catalogue']:,} predicted giants) in "
                f"{'estimates' if networks == 'redclump' else f'estimates_{networks}'}/; {est['seconds']:.1f} s"
            )
    return summaries


def cmd_build(args: argparse.Namespace) -> None:
    import time

    timings = {}
    for step, func in (("mock", cmd_mock), ("train", cmd_train), ("infer", cmd_infer)):
        start = time.perf_counter()
        log.info("build: %s started", step)
        result = func(args)
        timings[step] = time.perf_counter() - start
        log.info("build: %s done in %.1f s (%s)", step, timings[step], _step_counts(step, result))
    print("build: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))


def _step_counts(step: str, result: dict[str, Any]) -> str:
    """The counts a build step's log line reports."""
    if step == "mock" and "kept" in result:
        return f"{result['simulated']:,} simulated stars, {result['kept']:,} kept"
    if step == "train" and "stages" in result:
        return ", ".join(f"{stage} best epoch {v.get('best_epoch', '?')}" for stage, v in result["stages"].items())
    if step == "infer" and "giants" in result:
        return f"{result['rows']:,} stars, {result['giants']:,} giants"
    return "up to date"


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


def cut_flags_given(args: argparse.Namespace, terms: Sequence[CutTerm] = CUT_TERMS) -> bool:
    """Whether the command line set a preset or any cut term."""
    return bool(args.preset) or any(getattr(args, term.name) is not None for term in terms)


def cut_from_args(args: argparse.Namespace, terms: Sequence[CutTerm] = CUT_TERMS) -> Cut:
    """The cut the command line asks for: its preset (or no cut) with the given terms set."""
    cut_type = cut_class(terms)
    start = PRESETS[args.preset] if args.preset else Cut()
    cut = cut_type(**start.to_dict())
    given = {term.name: getattr(args, term.name) for term in terms}
    return cut.replace(**{name: value for name, value in given.items() if value is not None})


def cmd_select(args: argparse.Namespace) -> dict[str, Any]:
    from redclump import pipeline

    if args.out is None and not args.samp:
        raise CommandError("say where the sample goes: --out FILE, --samp (to TOPCAT/Aladin), or both")
    cut = cut_from_args(args)
    try:
        if args.out is not None:
            meta = pipeline.select(args.workdir, cut, args.out, overwrite=args.overwrite)
        if args.samp:
            chosen, meta = pipeline.selection(args.workdir, cut)
    except pipeline.PipelineError as exc:
        raise CommandError(str(exc)) from None
    print(
        f"select: {meta['n_rows']:,} stars with {meta['cut']}" + (f" → {args.out}" if args.out else "") + "\n"
        f"  contamination {meta['contamination']:.3f} "
        f"[{meta['contamination_lo']:.3f}, {meta['contamination_hi']:.3f}], "
        f"completeness {meta['completeness']:.3f} [{meta['completeness_lo']:.3f}, {meta['completeness_hi']:.3f}] "
        f"({meta['metrics_on']})\n"
        f"  contamination reweighted to the selected catalogue stars {meta['contamination_reweighted']:.3f} "
        f"[{meta['contamination_reweighted_lo']:.3f}, {meta['contamination_reweighted_hi']:.3f}] (bootstrap)"
    )
    if "catalogue_contamination" in meta:
        print(
            f"  over the selected catalogue stars (estimated, docs/estimates.md): contamination "
            f"{meta['catalogue_contamination']:.3f} [{meta['catalogue_contamination_lo']:.3f}, "
            f"{meta['catalogue_contamination_hi']:.3f}], completeness {meta['catalogue_completeness']:.3f} "
            f"[{meta['catalogue_completeness_lo']:.3f}, {meta['catalogue_completeness_hi']:.3f}]; "
            f"{100 * meta['catalogue_beyond_truth']:.0f}% of them beyond the truth set's range"
        )
    if args.samp:
        from redclump.data import samp

        try:
            receivers = samp.send_table(chosen, meta, name=f"redclump {meta['cut']}")
        except samp.SampError as exc:
            raise CommandError(f"SAMP: {exc}") from None
        print(f"  sent over SAMP to {', '.join(receivers)}")
    return meta


def cmd_export(args: argparse.Namespace) -> dict[str, Any]:
    try:
        from redclump import hats_export
    except ImportError as exc:
        msg = f"export --hats needs hats-import and lsdb ({exc.name} is missing): pip install 'redclump[hats]'"
        raise CommandError(msg) from None
    try:
        with dask_client(args.workers, args.scheduler) as client:
            result = hats_export.export_hats(
                args.workdir,
                args.hats,
                cut=cut_from_args(args),
                overwrite=args.overwrite,
                client=client,
                workers=args.workers,
            )
    except hats_export.HatsExportError as exc:
        raise CommandError(str(exc)) from None
    print(
        f"export: {result['rows']:,} of {result['catalogue_rows']:,} stars ({result['cut']}) in "
        f"{result['pixels']} HATS pixels → {result['out']} (open with lsdb.open_catalog)"
    )
    return result


def cmd_serve(args: argparse.Namespace) -> None:
    from redclump import serving

    try:
        origins = serving.allowed_origins(args.address, args.port, args.allow_websocket_origin)
        warning = serving.exposure_warning(args.address, args.port)
        if warning:
            print(warning, file=sys.stderr)
        build = serving.should_build(args.workdir, DEFAULT_WORKDIR, build=args.build)
    except serving.ServeError as exc:
        raise CommandError(str(exc)) from None
    serving.use_numba_cache(args.workdir)  # before anything imports numba
    if args.procs is None:
        args.procs = 1
    if args.procs > serving.MAX_PROCS:
        log.warning("--procs %d: using the most, %d (the cores limit the sessions)", args.procs, serving.MAX_PROCS)
    args.procs = min(args.procs, serving.MAX_PROCS)
    if build:
        log.info("no catalogue in %s: building it first (mock → train → infer)", args.workdir)
        with _writer_lock(args):
            cmd_build(args)
    import threading

    from redclump.dashboard.data import load_app_data

    workdir = str(args.workdir.resolve())
    # Load the catalogue (Arrow and numpy: mostly outside the GIL) and compile datashader's
    # kernel (LLVM: outside the GIL) in a thread while this one imports Panel and HoloViews.
    loaded: dict[str, Any] = {}

    def load() -> None:
        try:
            loaded["data"] = load_app_data(workdir)  # once per process, shared by every session
            from redclump.dashboard.views import compile_kernels

            compile_kernels()
        except BaseException as exc:  # re-raised below, in the main thread
            loaded["error"] = exc

    loader = threading.Thread(target=load, name="redclump-load", daemon=True)
    loader.start()
    import panel as pn

    from redclump.dashboard.app import create_app

    loader.join()
    if "error" in loaded:
        raise loaded["error"]
    log.info("serving on http://%s:%d (%d server process(es))", args.address, args.port, args.procs)
    if args.procs > 1:  # forked after the data is loaded: the processes share its pages
        parent = os.getpid()
        os.register_at_fork(after_in_child=lambda: serving.die_with_parent(parent))

    def page() -> Any:
        pn.state.on_session_destroyed(lambda _context: serving.release_memory())
        return serving.local_stylesheets(create_app(workdir=workdir))

    pn.serve(
        {"redclump": page},
        num_procs=args.procs,
        port=args.port,
        address=args.address,
        show=False,
        allow_websocket_origin=origins,
        title="redclump",
        websocket_max_message_size=10 * 1024 * 1024,
        **serving.session_cleanup(args.procs),
    )


def cmd_figures(args: argparse.Namespace) -> dict[str, Any]:
    import pandas as pd
    import pyarrow.dataset as pds

    from redclump import pipeline
    from redclump.dashboard import figures
    from redclump.data.schema import BAND_ERRORS, CATALOGUE_PREDICTIONS, FEATURES

    out_dir = args.out or (args.workdir / "figures")
    targets = {name: out_dir / f"{name}.{args.format}" for name in figures.FIGURES}
    existing = [str(p) for p in targets.values() if p.exists()]
    if existing and not args.overwrite:
        raise CommandError(f"{existing[0]} exists ({len(existing)} figure file(s) in the way); pass --overwrite")
    catalogue_dir = args.workdir / "catalogue"
    if not (catalogue_dir / "_manifest.json").exists():
        raise CommandError(f"no catalogue in {catalogue_dir}: run `redclump build` first")
    dataset = pds.dataset(catalogue_dir, format="parquet")
    # Everything the figures read: inputs, their errors, predictions, distances, mock truth.
    wanted = {*FEATURES, *BAND_ERRORS.values(), *CATALOGUE_PREDICTIONS, "l", "b", "parallax_error", "true_state"}
    catalogue = dataset.to_table(columns=[c for c in dataset.schema.names if c in wanted]).to_pandas()
    scored = pd.read_parquet(args.workdir / "truthset_scored.parquet")
    try:
        models = pipeline.load_models(args.workdir)
    except pipeline.ModelError:
        models = None
    from redclump.core.selection import TIER2

    made = figures.make_all(catalogue, scored, models, cut_from_args(args) if cut_flags_given(args) else TIER2)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, (fig, _numbers) in made.items():
        fig.savefig(targets[name], format=args.format, dpi=200)
        fig.clear()
        import matplotlib.pyplot as plt

        plt.close(fig)
    print(f"figures: {len(made)} written to {out_dir} ({', '.join(made)})")
    return {name: numbers for name, (_fig, numbers) in made.items()}


def cmd_report(args: argparse.Namespace) -> str:
    from redclump import catalogue_report, estimation, report

    for out in (args.out, args.json, args.curves):
        if out is not None and out.exists() and not args.overwrite:
            raise CommandError(f"{out} exists; pass --overwrite to replace it")
    try:
        rows = catalogue_report.catalogue_rows(args.workdir)
    except (estimation.EstimationError, FileNotFoundError) as exc:
        if args.json is not None:
            raise CommandError(str(exc)) from None
        log.warning("the catalogue by G and by distance is left out: %s", exc)
        rows = None
    try:
        text = report.build_report(args.workdir, catalogue_rows=rows)
    except report.ReportError as exc:
        raise CommandError(str(exc)) from None
    if args.json is not None and rows is not None:
        catalogue_report.write_json(rows, args.json)
        print(f"report: catalogue estimates written to {args.json}")
    if args.curves is not None:
        from redclump import loss_curves

        try:
            print(f"report: loss curves drawn in {loss_curves.plot_loss_curves(args.workdir, args.curves)}")
        except FileNotFoundError as exc:
            raise CommandError(str(exc)) from None
    if args.out is None:
        print(text)
    else:
        report.write_report(text, args.out)
        print(f"report: written to {args.out}")
    return text


def cmd_ingest(args: argparse.Namespace) -> dict[str, Any]:
    from redclump.data import ingest

    map_path = args.map
    if not map_path.exists():
        shipped = Path(ingest.__file__).parent / "maps" / f"{map_path.name.removesuffix('.toml')}.toml"
        map_path = shipped if shipped.exists() else map_path
    try:
        column_map = ingest.ColumnMap.read(map_path)
        kind = args.kind or column_map.kind
        if kind is None:
            raise CommandError(f"say what {args.file} is with --as input|catalogue|truthset (the map does not)")
        frame, report = ingest.ingest(args.file, column_map, kind)
        target = ingest.write_ingested(frame, args.workdir, kind, report, append=args.append)
    except ingest.IngestError as exc:
        raise CommandError(str(exc)) from None
    dropped = ", ".join(f"{k}: {v:,}" for k, v in report["rows_dropped"].items()) or "none"
    print(
        f"ingest: {report['rows_read']:,} rows read from {args.file}, {report['rows_kept']:,} kept "
        f"as {kind} → {target}; dropped: {dropped}"
    )
    return report


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="redclump", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    sub = parser.add_subparsers(dest="command", required=True)

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

    def add_train_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="where to train")
        p.add_argument(
            "--epochs",
            type=_positive_int,
            default=200,
            help="maximum epochs per stage (early stopping usually ends sooner)",
        )
        p.add_argument("--train-seed", dest="train_seed", type=_seed, default=0, help="training seed")

    def add_networks_option(p: argparse.ArgumentParser, *, train: bool) -> None:
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

    p = sub.add_parser("train", help="train the three MDN stages on the truth set")
    _add_common(p)
    add_train_options(p)
    add_networks_option(p, train=True)
    p.add_argument("--force", action="store_true", help="retrain even if up to date")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("infer", help="predict every input star and write the catalogue")
    _add_common(p)
    add_networks_option(p, train=False)
    p.add_argument("--force", action="store_true", help="rebuild even if up to date")
    p.set_defaults(func=cmd_infer)

    p = sub.add_parser("build", help="mock → train → infer, skipping steps that are up to date")
    _add_common(p)
    add_train_options(p)
    add_networks_option(p, train=True)
    p.add_argument("--stars", type=_positive_int, default=DEFAULT_STARS, help="simulated stars for the mock")
    p.add_argument("--seed", type=_seed, default=42, help="mock random seed")
    p.add_argument("--partition-size", type=_positive_int, default=1_000_000, help=argparse.SUPPRESS)
    p.add_argument("--truth-fraction", type=float, default=0.06, help=argparse.SUPPRESS)
    p.add_argument("--dwarf-fraction", type=float, default=0.15, help=argparse.SUPPRESS)
    p.add_argument("--force", action="store_true", help="redo every step")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("serve", help="serve the dashboard (in the default work folder, building it first if needed)")
    _add_common(p)
    add_train_options(p)
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

    p = sub.add_parser("figures", help="write the paper-ready figure set")
    _add_common(p)
    p.add_argument("--out", type=Path, default=None, help="output folder (default: WORKDIR/figures)")
    p.add_argument("--format", choices=("pdf", "png", "svg"), default="pdf", help="file format (default pdf)")
    # The sample figures' cut (default Tier 2); its term options are as `select`'s, so not listed.
    add_cut_options(p, shown=False, preset_help="cut for the sample figures (default tier2)")
    p.add_argument("--overwrite", action="store_true", help="replace existing figure files")
    p.set_defaults(func=cmd_figures)

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

    p = sub.add_parser(
        "report",
        help="the network sets beside the paper: precisions, Table 1, the trade-off (markdown, for the README)",
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

    p = sub.add_parser("export", help="write the catalogue (or the rows that pass a cut) as a HATS catalogue for lsdb")
    _add_common(p)
    add_cut_options(p, shown=False, preset_help="keep only the rows that pass a published cut (terms as for select)")
    p.add_argument("--hats", type=Path, required=True, metavar="DIR", help="the HATS catalogue folder to write")
    p.add_argument("--overwrite", action="store_true", help="replace an existing HATS catalogue at DIR")
    p.set_defaults(func=cmd_export)
    return parser


#: Commands that write into the work folder: one at a time per folder (redclump.locking).
WRITERS = ("mock", "train", "infer", "build", "ingest")


@contextlib.contextmanager
def _writer_lock(args: argparse.Namespace) -> Iterator[None]:
    from redclump import locking

    try:
        with locking.workdir_lock(args.workdir, args.command):
            yield
    except locking.WorkdirError as exc:
        raise CommandError(str(exc)) from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.DEBUG if args.verbose else logging.INFO)
    for noisy in ("distributed", "tornado", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.INFO if args.verbose else logging.CRITICAL)
    try:
        with _writer_lock(args) if args.command in WRITERS else contextlib.nullcontext():
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
