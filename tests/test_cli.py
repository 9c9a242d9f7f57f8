"""The command line: one-line errors, non-zero exits, nothing half-written."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest
from redclump.core.selection import CUT_TERMS, TIER1, Cut, CutTerm

from redclump import cli


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "redclump.cli", *args], capture_output=True, text=True, check=False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stars", "0"], "positive integer"),
        (["--stars", "-3"], "positive integer"),
        (["--stars", "many"], "expected an integer"),
        (["--seed", "abc"], "seed must be a non-negative integer"),
        (["--seed", "-1"], "seed must be a non-negative integer"),
    ],
)
def test_bad_mock_arguments(tmp_path: Path, args: list[str], message: str) -> None:
    result = run("mock", "--workdir", str(tmp_path / "w"), "--workers", "1", *args)
    assert result.returncode != 0
    assert message in result.stderr
    assert not (tmp_path / "w" / "input").exists()


def test_unwritable_workdir(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run("mock", "--workdir", str(blocker / "sub"), "--stars", "50000", "--workers", "1")
    assert result.returncode == 2
    assert "cannot create work folder" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_mock_prints_summary_and_skips_when_up_to_date(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["mock", "--workdir", str(tmp_path), "--stars", "100000", "--workers", "1", "--seed", "5"]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "kept" in out and "RC fraction" in out and "truth set" in out
    before = (tmp_path / "input" / "part-00000.parquet").stat().st_mtime_ns
    assert cli.main(args) == 0
    assert (tmp_path / "input" / "part-00000.parquet").stat().st_mtime_ns == before


def test_cli_default_star_count_matches_the_mock() -> None:
    from redclump.data import mock

    assert cli.DEFAULT_STARS == mock.DEFAULT_STARS


def test_cli_network_sets_match_the_designs() -> None:
    from redclump.core import networks

    assert cli.NETWORK_SETS == networks.NETWORK_SETS


@pytest.mark.parametrize("command", ["select", "figures"])
@pytest.mark.parametrize("term", CUT_TERMS, ids=lambda term: term.name)
def test_every_cut_term_is_an_option_that_sets_the_cut(command: str, term: CutTerm) -> None:
    args = cli.build_parser().parse_args([command, term.flag, "2.5"])
    # `figures` draws Tier 2 unless a cut flag is given: every term must count as one.
    assert cli.cut_flags_given(args)
    assert cli.cut_from_args(args) == Cut(**{term.name: 2.5})


def test_figures_without_cut_flags_draws_its_default() -> None:
    assert not cli.cut_flags_given(cli.build_parser().parse_args(["figures"]))


def test_cut_options_start_from_the_preset() -> None:
    args = cli.build_parser().parse_args(["select", "--preset", "tier1", "--dnu-max", "5.0", "--logg-min", "2.2"])
    assert cli.cut_from_args(args) == TIER1.replace(dnu_max=5.0, logg_min=2.2)


def test_a_term_added_to_a_copy_of_the_table_is_an_option() -> None:
    parallax = CutTerm("parallax_min", "parallax", ("parallax",), ">", "mas", "ϖ", "ϖ min (mas)", None, "plx")
    terms = (*CUT_TERMS, parallax)
    parser = argparse.ArgumentParser()
    cli.add_cut_options(parser, terms)
    assert "ϖ > this (mas)" in parser.format_help()
    args = parser.parse_args(["--parallax-min", "0.2", "--dp-min", "250"])
    assert cli.cut_flags_given(args, terms)
    assert cli.cut_from_args(args, terms).text() == "dp_phot > 250 & parallax > 0.2"


def test_select_takes_g_and_distance_ranges() -> None:
    args = cli.build_parser().parse_args(["select", "--g-min", "17", "--g-max", "19", "--dist-min", "10"])
    assert cli.cut_from_args(args) == Cut(g_min=17.0, g_max=19.0, dist_min=10.0)
    assert cli.cut_from_args(args).text() == "phot_g_mean_mag > 17 & phot_g_mean_mag < 19 & dist > 10"


def test_networks_doc_names_the_clock_the_command_line_has() -> None:
    """docs/networks.md once said the command line has no clock while `--time-budget` existed."""
    text = " ".join((Path(__file__).resolve().parents[1] / "docs" / "networks.md").read_text().split())
    for command in ("train", "build"):
        args = cli.build_parser().parse_args([command, "--time-budget", "60"])
        assert args.time_budget == 60.0
    assert "`--time-budget SECONDS`" in text and "the command line does not" not in text


def test_selfunc_writes_a_healpix_file_and_keeps_an_existing_one(
    small_build: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from astropy.io import fits

    out = tmp_path / "t2.fits"
    args = ["selfunc", "--workdir", str(small_build), "--preset", "tier2", "--dist-max", "20", "--order", "2"]
    assert cli.main([*args, "--out", str(out)]) == 0
    assert "HEALPix order 2 (NSIDE 4, NESTED, Galactic)" in capsys.readouterr().out
    with fits.open(out) as hdul:
        header = hdul["COMPLETENESS"].header
        assert (header["COORDSYS"], header["ORDERING"], header["NSIDE"]) == ("G", "NESTED", 4)
        assert header["CUT"] == "dp_phot > 225 & dnu_phot < 5.5 & dist < 20"
        assert "PARENT" not in [hdu.name for hdu in hdul]  # binned in G: relative to the input
    before = out.read_bytes()
    assert cli.main([*args, "--out", str(out), "--by", "dist"]) == 2
    assert "exists; pass --overwrite" in capsys.readouterr().err
    assert out.read_bytes() == before
    assert cli.main([*args, "--out", str(out), "--by", "dist", "--overwrite"]) == 0
    with fits.open(out) as hdul:
        assert hdul["PARENT"].header["BINAXIS"] == "DIST"  # the mock's parent completeness is known


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--out", "x.parquet"], "--out must be a .fits file"),
        (["--out", "x.fits", "--edges", "15,14"], "increasing edges"),
        (["--out", "x.fits", "--order", "12"], "order must be an integer from 0 to 9"),
    ],
)
def test_selfunc_refuses_bad_arguments_in_one_line(small_build: Path, extra: list[str], message: str) -> None:
    result = run("selfunc", "--workdir", str(small_build), "--preset", "tier1", *extra)
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]  # argparse puts its usage before the error
    assert last.startswith("redclump selfunc: error:") and message in last
    assert "Traceback" not in result.stderr


def test_selfunc_without_a_build_says_what_to_run(tmp_path: Path) -> None:
    result = run("selfunc", "--workdir", str(tmp_path), "--out", str(tmp_path / "x.fits"))
    assert result.returncode == 2
    assert "no catalogue in" in result.stderr and "redclump build" in result.stderr
