"""The commands that write a product of the built catalogue for other tools: a cut's selection
function as HEALPix FITS maps (`redclump selfunc`) and the catalogue as a HATS catalogue for lsdb
(`redclump export --hats`), with their console text."""

from __future__ import annotations

import argparse
from typing import Any

from redclump.data.workdir import WorkFolder
from redclump.progress import progress_bar

from .cluster import dask_client
from .commands import CommandError, cut_from_args

__all__ = ["cmd_export", "cmd_selfunc"]


def cmd_selfunc(args: argparse.Namespace) -> dict[str, Any]:
    from redclump.core.selfunc import SelectionFunction, SelfuncError
    from redclump.data.selfunc_files import SelfuncFileError

    if args.out.suffix.lower() not in (".fits", ".fit", ".fits.gz"):
        raise CommandError(f"--out must be a .fits file (HEALPix maps), got {args.out}")
    if args.out.exists() and not args.overwrite:
        raise CommandError(f"{args.out} exists; pass --overwrite to replace it")
    if not WorkFolder(args.workdir).has_catalogue():
        raise CommandError(f"no catalogue in {args.workdir}; run `redclump build --workdir {args.workdir}` first")
    cut = cut_from_args(args)
    with progress_bar(1, "selfunc: catalogue partitions", "part") as bar:

        def advance(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            sf = SelectionFunction.from_workdir(
                args.workdir, cut, by=args.by, order=args.order, edges=args.edges, seed=args.seed, progress=advance
            )
        except (SelfuncError, SelfuncFileError) as exc:
            raise CommandError(str(exc)) from None
    sf.write(args.out, overwrite=args.overwrite)
    unit = sf.unit
    print(
        f"selfunc: {cut.text()} → {args.out}\n"
        f"  HEALPix order {sf.order} (NSIDE {sf.nside}, NESTED, Galactic), {len(sf.edges) - 1} bins of "
        f"{'G' if sf.by == 'g' else 'RC distance'} from {sf.edges[0]:g} to {sf.edges[-1]:g} {unit}; "
        + ("parent completeness included (mock)" if sf.parent is not None else "relative to the input catalogue")
    )
    return sf.meta


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
