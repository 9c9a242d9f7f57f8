"""The assembled page: served from its file by `panel serve`, and free of Bokeh validation
warnings."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from redclump.dashboard.app_data import frames_to_app_data
from redclump.data.synthetic import synthetic_frames

ROOT = Path(__file__).resolve().parents[2]


def _validation_warnings(document) -> list[str]:  # type: ignore[no-untyped-def]
    from bokeh.core.validation.check import check_integrity

    issues = check_integrity(list(document.models))
    return [f"{issue.code} {issue.name}: {issue.text}" for issue in issues.warning]


# HoloViews' range of the contamination map when a bin row is empty.
@pytest.mark.filterwarnings("ignore:All-NaN slice encountered:RuntimeWarning")
def test_page_has_no_bokeh_validation_warnings() -> None:
    """Bokeh logs each validation warning (e.g. W-1005 'fixed' sizing mode without width and
    height) on every page load; every tab of the page is checked."""
    import panel as pn
    from bokeh.document import Document
    from redclump.dashboard.app import create_app

    catalogue, scored = synthetic_frames(20_000, 4_000, seed=2)
    template = create_app(frames_to_app_data(catalogue, scored, source="synthetic"))
    document = Document()
    template.server_doc(document)
    assert _validation_warnings(document) == []
    tabs = [obj for obj in template.main[0].select(pn.Tabs)]
    assert tabs, "the views' tabs"
    for index in range(1, len(tabs[0])):
        tabs[0].active = index
        assert _validation_warnings(document) == [], tabs[0]._names[index]


def _write_workdir(workdir: Path) -> None:
    """A work folder with a synthetic catalogue and scored truth set, as `redclump build` leaves."""
    catalogue, scored = synthetic_frames(5_000, 2_000, seed=3)
    (workdir / "catalogue").mkdir(parents=True)
    catalogue.to_parquet(workdir / "catalogue" / "part-0.parquet")
    (workdir / "catalogue" / "_manifest.json").write_text(json.dumps({"synthetic": True}))
    scored.to_parquet(workdir / "truthset_scored.parquet")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_panel_serve_runs_the_app_file(tmp_path: Path) -> None:
    """`panel serve dashboard/app.py` with REDCLUMP_WORKDIR: the page is built (the app file's
    imports are absolute) and the server logs no error and no validation warning."""
    _write_workdir(tmp_path / "w")
    port = _free_port()
    log_path = tmp_path / "serve.log"
    env = {**os.environ, "REDCLUMP_WORKDIR": str(tmp_path / "w")}
    panel = Path(sys.executable).parent / "panel"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [str(panel), "serve", str(ROOT / "dashboard" / "app.py"), "--port", str(port), "--address", "127.0.0.1"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.time() + 120
        page = ""
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/app", timeout=60) as response:
                    assert response.status == 200
                    page = response.read().decode()
                break
            except OSError:
                time.sleep(0.5)
        log_text = log_path.read_text()
        assert "redclump: red clump explorer" in page, log_text[-3000:]
        for bad in ("Traceback", "Error", "W-10"):
            assert bad not in log_text, log_text[-3000:]
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_app_does_not_import_torch() -> None:
    """`redclump serve` imports the app before it listens; torch would add ~3 s to the page's wait."""
    code = "import sys, redclump.dashboard.app, redclump.cli; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
