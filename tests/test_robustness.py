"""The bad-input campaign (docs/robustness.md): each row of the tables below is one bad input, the
message the user sees, and a check that nothing was written and nothing lost.

URL parameters have their own table in tests/dashboard/test_urlparams.py; the lock and `serve`
cases are also exercised with real processes in tests/test_locking.py and tests/test_serving.py.
"""

from __future__ import annotations

import errno
import hashlib
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from redclump.data import mock, schema

from redclump import cli, locking, pipeline

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("robust")
    mock.write_mock(workdir, mock.MockConfig(n_stars=100_000, seed=9, truth_fraction=0.3), partition_stars=50_000)
    pipeline.train(workdir, epochs=1)
    pipeline.infer(workdir)
    return workdir


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too) with its content's digest."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


# ---- command line ---------------------------------------------------------------------------------
#: (id, argv; {w} = the built work folder, {e} = an empty folder, {t} = a scratch folder), message.
CLI_CASES = [
    ("cli-stars-zero", "mock --stars 0", "expected a positive integer, got 0"),
    ("cli-stars-word", "mock --stars many", "expected an integer, got 'many'"),
    ("cli-stars-float", "mock --stars 1.5", "expected an integer, got '1.5'"),
    ("cli-seed-negative", "mock --seed -1", "seed must be a non-negative integer, got -1"),
    ("cli-truth-fraction-nan", "mock --workdir {w} --truth-fraction nan", "truth fraction must be in (0, 1], got nan"),
    ("cli-truth-fraction-big", "mock --workdir {w} --truth-fraction 2", "truth fraction must be in (0, 1], got 2"),
    ("cli-dwarf-fraction", "mock --workdir {w} --dwarf-fraction -0.1", "dwarf fraction must be in [0, 1)"),
    ("cli-partition-size", "mock --workdir {w} --partition-size 12345", "must be a multiple of 50,000, got 12,345"),
    ("cli-epochs-zero", "train --workdir {w} --epochs 0", "expected a positive integer, got 0"),
    ("cli-device", "train --workdir {w} --device tpu", "invalid choice: 'tpu'"),
    ("cli-port-range", "serve --workdir {w} --port 70000", "port must be in 1-65535, got 70000"),
    ("cli-port-word", "serve --workdir {w} --port http", "port must be an integer, got 'http'"),
    ("cli-serve-typo", "serve --workdir {t}/typo", "does not exist; nothing was built. Build it with `redclump build"),
    ("cli-serve-empty", "serve --workdir {e}", "has no catalogue; nothing was built"),
    ("cli-serve-public", "serve --workdir {w} --address 0.0.0.0", "also give --allow-websocket-origin HOST:5006"),
    ("cli-select-format", "select --workdir {w} --out {t}/s.txt", "unknown output format '.txt'"),
    ("cli-select-exists", "select --workdir {w} --out {t}/kept.csv", "kept.csv exists; pass --overwrite to replace it"),
    ("cli-select-nan", "select --workdir {w} --dp-min nan --out {t}/s.csv", "expected a finite number, got 'nan'"),
    ("cli-select-inf", "select --workdir {w} --dnu-max inf --out {t}/s.csv", "expected a finite number, got 'inf'"),
    ("cli-select-word", "select --workdir {w} --teff-min warm --out {t}/s.csv", "expected a number, got 'warm'"),
    ("cli-select-zero-stars", "select --workdir {w} --dp-min 100000 --out {t}/s.csv", "no catalogue star passes"),
    ("cli-select-no-catalogue", "select --workdir {e} --out {t}/s.csv", "no catalogue in"),
    ("cli-figures-no-catalogue", "figures --workdir {e} --out {t}/f", "no catalogue in"),
    ("cli-figures-format", "figures --workdir {w} --format jpeg", "invalid choice: 'jpeg'"),
    ("cli-infer-no-input", "infer --workdir {e} --workers 1", "no input partitions in"),
    ("cli-train-no-truthset", "train --workdir {e}", "no truth set at"),
    ("cli-ingest-no-file", "ingest {t}/none.csv --map gaia_dr2_crossmatch --workdir {e}", "none.csv: no such file"),
    ("cli-ingest-no-map", "ingest {t}/kept.csv --map {t}/nomap.toml --workdir {e}", "cannot read column map"),
    ("cli-ingest-kind", "ingest {t}/kept.csv --map gaia_dr2_crossmatch --as stars", "invalid choice: 'stars'"),
    ("cli-no-command", "", "the following arguments are required: command"),
    ("cli-unknown-command", "frobnicate", "invalid choice: 'frobnicate'"),
]


@pytest.mark.parametrize(("case", "argv", "message"), CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_command_line(
    built: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, argv: str, message: str
) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "kept.csv").write_text("user's file\n")
    before = snapshot(built), snapshot(tmp_path)
    args = argv.format(w=built, e=tmp_path / "empty", t=tmp_path).split()
    code, err = run_cli(args, capsys)
    assert code == 2, err
    last = err.strip().splitlines()[-1]  # one line (argparse prints its usage lines before it)
    assert last.startswith("redclump") and message in last, err
    assert (snapshot(built), snapshot(tmp_path)) == before  # nothing written, nothing lost


def test_cuda_requested_without_cuda(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Row cli-cuda-missing."""
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    before = snapshot(built)
    code, err = run_cli(["train", "--workdir", str(built), "--device", "cuda", "--force"], capsys)
    assert code == 2 and "--device cuda requested but no CUDA device is available" in err
    assert snapshot(built) == before


# ---- ingest files ---------------------------------------------------------------------------------
def _rows(built: Path, n: int = 200, start: int = 0) -> pd.DataFrame:
    frame = pd.read_parquet(built / "input" / "part-00000.parquet")[list(schema.INPUT_COLUMNS)]
    return frame.iloc[start : start + n].reset_index(drop=True)


def _write(frame: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path)
    return path


def _truncated(built: Path, t: Path) -> Path:
    data = _write(_rows(built), t / "f.parquet").read_bytes()
    (t / "f.parquet").write_bytes(data[: len(data) // 2])
    return t / "f.parquet"


def _with(change: Callable[[pd.DataFrame], pd.DataFrame], suffix: str = ".parquet") -> Callable[[Path, Path], Path]:
    return lambda built, t: _write(change(_rows(built)), t / f"f{suffix}")


def _raw(name: str, content: bytes) -> Callable[[Path, Path], Path]:
    def make(_built: Path, t: Path) -> Path:
        (t / name).write_bytes(content)
        return t / name

    return make


def _map(text: str) -> Callable[[Path], Path]:
    def make(t: Path) -> Path:
        (t / "m.toml").write_text(text)
        return t / "m.toml"

    return make


def _set(frame: pd.DataFrame, **columns: object) -> pd.DataFrame:
    return frame.assign(**columns)


IDENTITY = "[columns]\n" + "\n".join(f'{c} = "{c}"' for c in schema.INPUT_COLUMNS)
#: (id, make the file, make the map or None for gaia_dr2_crossmatch, extra arguments, message)
INGEST_CASES = [
    ("ing-empty", _raw("f.csv", b""), None, [], "f.csv: the file is empty"),
    ("ing-truncated", _truncated, None, [], "f.parquet: cannot be read as .parquet; corrupt or truncated?"),
    ("ing-header-only", lambda b, t: _write(_rows(b).head(0), t / "f.csv"), None, [], "the table has no rows"),
    ("ing-not-fits", _raw("f.fits", b"SIMPLE  = nonsense" * 10), None, [], "f.fits: cannot be read as .fits"),
    ("ing-unknown-format", _raw("f.xlsx", b"PK\x03\x04"), None, [], "unknown format (use .parquet, .fits, .csv"),
    ("ing-duplicate-ids", _with(lambda f: pd.concat([f, f.head(3)])), None, [],
     "column 'source_id' has 3 duplicate value(s)"),
    ("ing-wrong-unit", _with(lambda f: f), _map(IDENTITY.replace('parallax = "parallax"',
     'parallax = { column = "parallax", unit = "K" }')), [], "column 'parallax' (for parallax) is in K, which cannot"),
    ("ing-unknown-unit", _with(lambda f: f), _map(IDENTITY.replace('parallax = "parallax"',
     'parallax = { column = "parallax", unit = "parsnips" }')), [], "unknown unit 'parsnips'"),
    ("ing-text-for-numbers", _with(lambda f: _set(f, parallax="abc"), ".csv"), None, [],
     "column 'parallax' (for parallax) is str, expected numbers"),
    ("ing-all-nan", _with(lambda f: _set(f, w1mpro=np.nan)), None, [],
     "every row has a non-finite required value (non-finite w1mpro: 200)"),
    ("ing-ra-range", _with(lambda f: _set(f, ra=400.0)), None, [], "column 'ra' (for ra) has 200 value(s) outside"),
    ("ing-dec-range", _with(lambda f: _set(f, dec=-95.0)), None, [], "outside [-90, 90] deg"),
    ("ing-renamed-column", _with(lambda f: f.rename(columns={"w2mpro": "w2_mpro"})), None, [],
     "names column(s) not in the file: 'w2mpro' (for w2mpro) ('w2mpro' → did you mean 'w2_mpro'?)"),
    ("ing-bad-toml", _with(lambda f: f), _map("columns = ["), [], "m.toml: not valid TOML"),
    ("ing-map-unknown-key", _with(lambda f: f), _map(IDENTITY + "\n[extra]\na = 1"), [], "unknown key(s) extra"),
    ("ing-map-kind", _with(lambda f: f), _map('kind = "stars"\n' + IDENTITY), [], "kind must be one of"),
    ("ing-append-duplicates", lambda b, t: _write(_rows(b, 50), t / "f.parquet"), None, ["--append"],
     "50 source_id value(s) are already in"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "make_file", "make_map", "extra", "message"), INGEST_CASES, ids=[c[0] for c in INGEST_CASES]
)
def test_ingest_file(
    built: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
    make_file: Callable[[Path, Path], Path],
    make_map: Callable[[Path], Path] | None,
    extra: list[str],
    message: str,
) -> None:
    workdir = tmp_path / "w"
    first = _write(_rows(built, 300), tmp_path / "first.parquet")
    assert cli.main(["ingest", str(first), "--map", "gaia_dr2_crossmatch", "--workdir", str(workdir)]) == 0
    capsys.readouterr()
    path = make_file(built, tmp_path)
    map_arg = str(make_map(tmp_path)) if make_map else "gaia_dr2_crossmatch"
    before = snapshot(workdir)
    code, err = run_cli(
        ["ingest", str(path), "--map", map_arg, "--as", "input", "--workdir", str(workdir), *extra], capsys
    )
    assert code == 2, err
    assert message in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert snapshot(workdir) == before  # the earlier ingested input is untouched


def test_append_to_a_mock_is_refused(built: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Row ing-append-to-mock."""
    workdir = tmp_path / "w"
    shutil.copytree(built / "input", workdir / "input")
    before = snapshot(workdir)
    path = _write(_rows(built, 10).assign(source_id=lambda f: f["source_id"] + 10**15), tmp_path / "f.parquet")
    code, err = run_cli(
        ["ingest", str(path), "--map", "gaia_dr2_crossmatch", "--append", "--workdir", str(workdir)], capsys
    )
    assert code == 2 and "holds a redclump-mock dataset; append only adds to ingested ones" in err
    assert snapshot(workdir) == before


# ---- the work folder's own files: models, manifests, changed partitions -----------------------------
def _damage_truncate(path: str) -> Callable[[Path], None]:
    def damage(w: Path) -> None:
        data = (w / path).read_bytes()
        (w / path).write_bytes(data[: len(data) // 2])

    return damage


def _drop_column(w: Path) -> None:
    part = w / "input" / "part-00001.parquet"
    pd.read_parquet(part).drop(columns=["w1mpro"]).to_parquet(part)


def _retype_column(w: Path) -> None:
    part = w / "input" / "part-00001.parquet"
    frame = pd.read_parquet(part)
    frame["parallax"] = frame["parallax"].astype(str).where(frame.index > 0, "n/a")
    frame.to_parquet(part)


#: (id, damage, command, message)
FOLDER_CASES = [
    ("mod-truncated", _damage_truncate("models/stage3.pt"), "infer", "stage3.pt is corrupt or not a redclump model"),
    ("mod-missing", lambda w: (w / "models" / "stage2.pt").unlink(), "infer",
     "stage2.pt is missing: run `redclump train`"),
    ("mod-text", lambda w: (w / "models" / "stage1.pt").write_text("hello"), "infer",
     "stage1.pt is corrupt or not a redclump model"),
    ("mod-foreign", lambda w: torch.save({"format": "other"}, w / "models" / "stage1.pt"), "infer",
     "stage1.pt is corrupt or not a redclump model (KeyError)"),
    ("mod-swapped", lambda w: shutil.copy(w / "models" / "stage1.pt", w / "models" / "stage3.pt"), "infer",
     "stage3.pt predicts teff, logg, but stage3 must predict deltap, deltanu"),
    ("mod-colour-corrupt", lambda w: (w / "models" / "intrinsic_colour.json").write_text("{"), "infer",
     "intrinsic_colour.json is corrupt"),
    ("input-column-dropped", _drop_column, "infer", "part-00001.parquet: missing column(s) 'w1mpro'"),
    ("input-column-retyped", _retype_column, "infer", "part-00001.parquet: column 'parallax' is str, expected"),
    ("truthset-no-test", lambda w: pd.read_parquet(w / "truthset.parquet").query("split != 'test'").to_parquet(
     w / "truthset.parquet"), "train --force", "column 'split' has no 'test' rows"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "damage", "command", "message"), FOLDER_CASES, ids=[c[0] for c in FOLDER_CASES])
def test_damaged_work_folder(
    built: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
    damage: Callable[[Path], None],
    command: str,
    message: str,
) -> None:
    workdir = tmp_path / "w"
    shutil.copytree(built, workdir)
    damage(workdir)
    before = snapshot(workdir)
    code, err = run_cli([*command.split(), "--workdir", str(workdir), "--workers", "1", "--force"], capsys)
    assert code == 2, err
    assert message in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert snapshot(workdir) == before  # the old catalogue and models are kept


@pytest.mark.parametrize(
    ("case", "damaged"),
    [("evaluation-corrupt", "models/evaluation.json"), ("manifest-corrupt", "catalogue/_manifest.json")],
)
def test_damaged_bookkeeping_is_redone(built: Path, tmp_path: Path, case: str, damaged: str) -> None:
    """Rows evaluation-corrupt, manifest-corrupt: an unreadable record is not trusted; the step
    is redone and the record is whole again."""
    workdir = tmp_path / "w"
    shutil.copytree(built, workdir)
    (workdir / damaged).write_text("{not json")
    if damaged.startswith("models"):
        argv = ["train", "--workdir", str(workdir), "--epochs", "1"]
    else:
        argv = ["infer", "--workdir", str(workdir), "--workers", "1"]
    assert cli.main(argv) == 0
    json.loads((workdir / damaged).read_text())


# ---- the candidate cache, read-only folders, full disks, a held lock -------------------------------
@pytest.mark.parametrize("case", ["cache-corrupt", "cache-truncated"])
def test_corrupt_candidate_cache_is_rebuilt(
    built: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    from redclump.dashboard.app_data import load_app_data

    workdir = tmp_path / "w"
    shutil.copytree(built, workdir)
    # The candidates are memory-mapped from the cache: copy them before damaging the file in place.
    fresh_catalogue = load_app_data(str(workdir)).catalogue.copy(deep=True)
    load_app_data.cache_clear()
    (cache,) = workdir.glob("app_candidates-*.arrow")
    data = cache.read_bytes()
    cache.write_bytes(b"garbage" * 100 if case == "cache-corrupt" else data[: len(data) // 2])
    again = load_app_data(str(workdir))
    load_app_data.cache_clear()
    assert "is unreadable" in caplog.text and "rebuilding it from the catalogue" in caplog.text
    pd.testing.assert_frame_equal(again.catalogue, fresh_catalogue)
    assert cache.read_bytes() == data  # rebuilt whole


def test_read_only_folder_serves_without_a_cache(
    built: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Row cache-read-only (simulated: the tests may run as root)."""
    import pyarrow.feather
    from redclump.dashboard.app_data import load_app_data

    workdir = tmp_path / "w"
    shutil.copytree(built, workdir)
    for cache in workdir.glob("app_candidates-*"):
        cache.unlink()

    def read_only(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(pyarrow.feather, "write_feather", read_only)
    before = snapshot(workdir)
    data = load_app_data(str(workdir))
    load_app_data.cache_clear()
    assert len(data.catalogue) > 0
    assert "cannot write the candidate cache" in caplog.text and "Read-only file system" in caplog.text
    assert snapshot(workdir) == before


def test_read_only_folder_for_a_writer(
    built: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Row workdir-read-only (simulated)."""
    import os

    workdir = tmp_path / "w"
    shutil.copytree(built, workdir)
    real_open = os.open

    def read_only(path: object, *args: object, **kwargs: object) -> int:
        if str(path).startswith(str(workdir)) and (args and args[0] & os.O_CREAT):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", read_only)
    before = snapshot(workdir)
    code, err = run_cli(["infer", "--workdir", str(workdir), "--workers", "1", "--force"], capsys)
    assert code == 2 and f"work folder {workdir} is not writable (Read-only file system); nothing was written" in err
    assert snapshot(workdir) == before


def _full_disk_after(calls: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Simulate a disk that fills up: the ``calls``-th Parquet write fails with ENOSPC."""
    real = pd.DataFrame.to_parquet
    count = [0]

    def to_parquet(self: pd.DataFrame, path: object, *args: object, **kwargs: object) -> object:
        count[0] += 1
        if count[0] >= calls:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(self, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", to_parquet)


@pytest.mark.parametrize(
    ("case", "argv", "calls"),
    [
        ("disk-full-mock", "mock --stars 100000 --partition-size 50000 --seed 3 --truth-fraction 0.3 --workers 1", 2),
        ("disk-full-infer", "infer --force --workers 1", 2),
        ("disk-full-ingest", "ingest {f} --map gaia_dr2_crossmatch --append", 1),
    ],
)
def test_full_disk(
    built: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    case: str,
    argv: str,
    calls: int,
) -> None:
    workdir = tmp_path / "w"
    shutil.copytree(built, workdir)
    if case == "disk-full-ingest":
        shutil.rmtree(workdir / "input")
        first = _write(_rows(built, 100), tmp_path / "a.parquet")
        assert cli.main(["ingest", str(first), "--map", "gaia_dr2_crossmatch", "--workdir", str(workdir)]) == 0
    f = _write(_rows(built, 100, start=100), tmp_path / "b.parquet")
    before = snapshot(workdir)
    _full_disk_after(calls, monkeypatch)
    code, err = run_cli([*argv.format(f=f).split(), "--workdir", str(workdir)], capsys)
    assert code == 1, err
    assert "No space left on device" in err and "finished outputs are as they were, partial ones were removed" in err
    assert snapshot(workdir) == before  # the previous outputs whole, no temporaries left


def test_full_disk_while_selecting(
    built: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Row disk-full-select: no partial sample file."""
    import pyarrow.parquet as pq

    def full(_table: object, where: object, *args: object, **kwargs: object) -> None:
        Path(str(where)).write_bytes(b"PAR1 partial")
        raise OSError(errno.ENOSPC, "No space left on device", str(where))

    monkeypatch.setattr(pq, "write_table", full)
    code, err = run_cli(
        ["select", "--workdir", str(built), "--dp-min", "0", "--out", str(tmp_path / "s.parquet")], capsys
    )
    assert code == 1 and "No space left on device" in err, err
    assert list(tmp_path.iterdir()) == []


def test_held_lock(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Row workdir-locked."""
    before = snapshot(built)
    with locking.workdir_lock(built, "build"):
        code, err = run_cli(["infer", "--workdir", str(built), "--workers", "1"], capsys)
    assert code == 2 and f"work folder {built} is in use by `redclump build`" in err
    before.pop(locking.LOCK_NAME, None)
    assert snapshot(built) == before


def test_zero_stars_after_a_cut_in_the_app(built: Path) -> None:
    """Row app-zero-stars: the numbers say 0 and 'undefined', nothing breaks."""
    from redclump.dashboard.app_data import load_app_data
    from redclump.dashboard.numbers import numbers_html
    from redclump.dashboard.state import ExplorerState

    state = ExplorerState(load_app_data(str(built)))
    load_app_data.cache_clear()
    state.param.update(dp_min=400.0, dnu_max=1.0)
    numbers = state.numbers()
    assert numbers["n_catalogue"] == 0 and numbers["n_selected"] == 0
    assert ">0<" in numbers_html(numbers) and "undefined" in numbers_html(numbers)


def test_corrupt_estimate_files(built: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Row estimates-corrupt: select names the folder and the fix; the app still serves."""
    import shutil

    from redclump.dashboard.app_data import load_app_data
    from redclump.dashboard.numbers import numbers_html
    from redclump.dashboard.state import ExplorerState

    work = tmp_path / "work"
    shutil.copytree(built, work, ignore=shutil.ignore_patterns("*.arrow"))
    cells_file = work / "estimates" / "cells.npz"
    cells_file.write_bytes(cells_file.read_bytes()[:100])
    before = snapshot(work)
    loose = ["--dp-min", "150", "--dnu-max", "20"]  # the small build's networks leave Tier 2 empty
    code, err = run_cli(["select", "--workdir", str(work), *loose, "--out", str(tmp_path / "t2.fits")], capsys)
    assert code == 2 and f"cannot read the estimate files in {work / 'estimates'}" in err
    assert "redclump infer --force" in err and not (tmp_path / "t2.fits").exists()
    assert snapshot(work) == before
    state = ExplorerState(load_app_data.__wrapped__(str(work)), dp_min=150.0, dnu_max=20.0)
    numbers = state.numbers()
    assert numbers["n_catalogue"] > 0 and not numbers["catalogue"]["available"]
    assert "missing or unreadable" in numbers_html(numbers)


# ---- the table in the docs ----------------------------------------------------------------------
def test_every_row_of_the_robustness_table_is_a_case_here() -> None:
    text = (ROOT / "docs" / "robustness.md").read_text()
    rows = re.findall(r"^\| `([a-z0-9-]+)` \|", text, flags=re.MULTILINE)
    assert len(rows) == len(set(rows)) >= 50
    here = Path(__file__).read_text()
    url = (ROOT / "tests" / "dashboard" / "test_urlparams.py").read_text()
    missing = [row for row in rows if not any(f'"{row}"' in t or f"Row {row}" in t for t in (here, url))]
    assert not missing, missing
