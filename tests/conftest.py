"""Shared fixtures: one small seeded mock per test session."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from redclump.data import mock

#: Debian's chromium (apt), driven by Playwright; never a downloaded browser.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SMALL_STARS = 300_000
SMALL_SEED = 7


@pytest.fixture(scope="session")
def small_mock_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("mock")
    mock.write_mock(workdir, mock.MockConfig(n_stars=SMALL_STARS, seed=SMALL_SEED, truth_fraction=0.3))
    return workdir


@pytest.fixture(scope="session")
def small_input(small_mock_dir: Path) -> pd.DataFrame:
    return pd.read_parquet(small_mock_dir / "input")


@pytest.fixture(scope="session")
def small_truthset(small_mock_dir: Path) -> pd.DataFrame:
    return pd.read_parquet(small_mock_dir / "truthset.parquet")


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    """Headless Chromium, skipped where Debian's chromium is not installed (.ci/run installs it)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


# ---- SAMP: a hub and a table-loading client in this process (TOPCAT's part) --------------------


def _pyvo_samp():  # type: ignore[no-untyped-def]
    return pytest.importorskip("pyvo.samp")


@pytest.fixture
def samp_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A SAMP hub on 127.0.0.1 whose lock file is in tmp_path (never the user's ~/.samp)."""
    monkeypatch.setattr(_pyvo_samp().conf, "use_internet", False)
    lockfile = tmp_path / "samp.lock"
    monkeypatch.setenv("SAMP_HUB", f"std-lockurl:{lockfile.as_uri()}")
    server = _pyvo_samp().SAMPHubServer(web_profile=False, lockfile=str(lockfile), addr="127.0.0.1")
    server.start()
    try:
        yield server
    finally:
        server.stop()


class SampReceiver:
    """A client that loads tables as TOPCAT does: it reads the VOTable from the URL while the call
    is open, then answers."""

    def __init__(self) -> None:
        self.client = _pyvo_samp().SAMPIntegratedClient(name="receiver", addr="127.0.0.1")
        self.tables: list[Any] = []
        self.params: list[dict[str, Any]] = []
        self.received = threading.Event()

    def __enter__(self) -> SampReceiver:
        self.client.connect()
        self.client.bind_receive_call("table.load.votable", self._load)
        return self

    def __exit__(self, *_: object) -> None:
        self.client.disconnect()

    def _load(self, _key: str, _sender: str, msg_id: str, _mtype: str, params: dict, _extra: dict) -> None:
        from redclump.data.export import read_table

        path = Path(params["url"].removeprefix("file://"))
        copy = path.with_name(path.name + ".copy.vot")
        copy.write_bytes(path.read_bytes())
        try:
            self.tables.append(read_table(copy))
        finally:
            copy.unlink()
        self.params.append(params)
        self.client.reply(msg_id, {"samp.status": "samp.ok", "samp.result": {}})
        self.received.set()


@pytest.fixture
def samp_receiver(samp_hub: Any) -> Iterator[SampReceiver]:
    """A table-loading client (TOPCAT's part) registered with :func:`samp_hub`."""
    with SampReceiver() as receiver:
        yield receiver
