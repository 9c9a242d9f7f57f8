"""What each ``redclump`` subcommand does, and what it prints: the command line's actions.

:mod:`redclump.cli` parses the arguments and calls the ``cmd_*`` function the subcommand names;
each calls a pipeline step (:mod:`redclump.pipeline`, :mod:`redclump.data.mock`,
:mod:`redclump.publish`, …) and keeps the console text here, out of the steps.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from redclump.core.selection import CUT_TERMS, PRESETS, Cut, CutTerm, cut_class
from redclump.data.workdir import WorkFolder, partitions
from redclump.progress import progress_bar

from .cluster import dask_client

__all__ = [
    "DEFAULT_WORKDIR",
    "WRITERS",
    "CommandError",
    "cmd_build",
    "cmd_figures",
    "cmd_infer",
    "cmd_ingest",
    "cmd_mock",
    "cmd_report",
    "cmd_select",
    "cmd_serve",
    "cmd_train",
    "cut_flags_given",
    "cut_from_args",
    "writer_lock",
]

log = logging.getLogger("redclump")

DEFAULT_WORKDIR = Path(".redclump")


class CommandError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


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
        summary_path = WorkFolder(args.workdir).input_summary
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
    from redclump.cli import NETWORK_SETS

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
        print(format_evaluation(evaluation))
        evaluations[networks] = evaluation
    return evaluations


def format_evaluation(evaluation: dict[str, Any]) -> str:
    """The train step's evaluation as the console table: each stage's targets on the test split."""
    from redclump.publish.report import PAPER_PRECISION

    lines = ["held-out test split: bias, scatter (robust), 1σ/2σ coverage; paper's scatter beside"]
    for stage, info in evaluation["stages"].items():
        for target, m in info["targets"].items():
            paper = PAPER_PRECISION.get(target)
            lines.append(
                f"  {stage} {target:8s} n={m['n']:7d} bias {m['bias']:+9.3f} scatter {m['scatter']:8.3f} "
                f"({m['robust_scatter']:.3f}) cover {m['coverage_1sigma']:.2f}/{m['coverage_2sigma']:.2f}"
                + (f"   paper ±{paper:g}" if paper and stage != "stage1" else "")
            )
    return "\n".join(lines)


def cmd_infer(args: argparse.Namespace) -> dict[str, Any]:
    from redclump import pipeline

    n_parts = len(partitions(WorkFolder(args.workdir).input))
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
                f"{WorkFolder(args.workdir).networks(networks).estimates.name}/; {est['seconds']:.1f} s"
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
        with writer_lock(args):
            cmd_build(args)
    serving.serve(args.workdir, address=args.address, port=args.port, procs=args.procs, origins=origins)


def cmd_figures(args: argparse.Namespace) -> dict[str, Any]:
    import pandas as pd
    import pyarrow.dataset as pds

    from redclump import pipeline
    from redclump.data.schema import BAND_ERRORS, CATALOGUE_PREDICTIONS, FEATURES
    from redclump.publish import figures

    folder = WorkFolder(args.workdir)
    out_dir = args.out or folder.figures
    targets = {name: out_dir / f"{name}.{args.format}" for name in figures.FIGURES}
    existing = [str(p) for p in targets.values() if p.exists()]
    if existing and not args.overwrite:
        raise CommandError(f"{existing[0]} exists ({len(existing)} figure file(s) in the way); pass --overwrite")
    catalogue_dir = folder.catalogue
    if not folder.has_catalogue():
        raise CommandError(f"no catalogue in {catalogue_dir}: run `redclump build` first")
    dataset = pds.dataset(catalogue_dir, format="parquet")
    # Everything the figures read: inputs, their errors, predictions, distances, mock truth.
    wanted = {*FEATURES, *BAND_ERRORS.values(), *CATALOGUE_PREDICTIONS, "l", "b", "parallax_error", "true_state"}
    catalogue = dataset.to_table(columns=[c for c in dataset.schema.names if c in wanted]).to_pandas()
    scored = pd.read_parquet(folder.scored)
    try:
        models = pipeline.load_models(args.workdir)
    except pipeline.ModelError:
        models = None
    from redclump.core.selection import TIER2

    cut = cut_from_args(args) if cut_flags_given(args) else TIER2
    made = figures.write_figures(catalogue, scored, models, cut, out_dir, fmt=args.format)
    print(f"figures: {len(made)} written to {out_dir} ({', '.join(made)})")
    return made


def cmd_report(args: argparse.Namespace) -> str:
    from redclump import estimation
    from redclump.publish import catalogue_report, report

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
        from redclump.publish import loss_curves

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


#: Commands that write into the work folder: one at a time per folder (redclump.locking).
WRITERS = ("mock", "train", "infer", "build", "ingest")


@contextlib.contextmanager
def writer_lock(args: argparse.Namespace) -> Iterator[None]:
    from redclump import locking

    try:
        with locking.workdir_lock(args.workdir, args.command):
            yield
    except locking.WorkdirError as exc:
        raise CommandError(str(exc)) from None
