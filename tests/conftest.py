"""Shared fixtures: one small seeded mock per test session."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
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


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _served(workdir: Path, log: Path, *args: str, timeout: float = 120) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`redclump serve` on ``workdir`` (plus ``args``) in a subprocess on a free loopback port:
    (the page's URL, the process) once it listens; terminated afterwards. Its output goes to
    ``log`` (an unread pipe would fill up and block the server)."""
    port = free_port()
    command = [sys.executable, "-m", "redclump.cli", "serve", "--workdir", str(workdir), "--port", str(port), *args]
    with log.open("w") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.time() + timeout
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if proc.poll() is not None or time.time() > deadline:
                        pytest.fail(f"`redclump serve` did not start: {log.read_text()}")
                    time.sleep(0.3)
            yield f"http://127.0.0.1:{port}/redclump", proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def port() -> int:
    """A TCP port free on loopback now (for a server a test starts itself)."""
    return free_port()


@pytest.fixture(scope="session")
def serve_app() -> Callable[..., Any]:
    """Runs `redclump serve` for a test: ``with serve_app(workdir, log) as (url, proc): ...``."""
    return _served


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


# ---- What a person sees: browser-test helpers --------------------------------------------------

#: In the page: whether the element at the centre of ``el``'s box is ``el`` or inside it, walking
#: up through shadow roots (Panel and Bokeh draw inside them), i.e. whether nothing covers it.
_ON_TOP_JS = """(el) => {
  const r = el.getBoundingClientRect();
  const cx = r.left + r.width / 2, cy = r.top + r.height / 2;
  let hit = document.elementFromPoint(cx, cy);
  while (hit && hit.shadowRoot) {
    const inner = hit.shadowRoot.elementFromPoint(cx, cy);
    if (!inner || inner === hit) break;
    hit = inner;
  }
  const top = hit;
  for (let node = hit; node; node = node.parentNode || node.host) {
    if (node === el) return null;
  }
  return top ? (top.tagName + '.' + top.className) : 'nothing';
}"""


class Seen:
    """Assertions on what a person sees in a Playwright page, not on what the DOM holds."""

    @staticmethod
    def assert_visible(page: Any, locator: Any) -> dict[str, float]:
        """``locator`` is shown: non-zero size, inside the viewport and not covered at its centre.
        Returns its bounding box."""
        assert locator.is_visible(), f"{locator} is not visible (hidden, or display: none)"
        box = locator.bounding_box()
        assert box is not None and box["width"] > 0 and box["height"] > 0, f"{locator} has no size: {box}"
        view = page.viewport_size
        inside = (
            box["x"] >= -1
            and box["y"] >= -1
            and box["x"] + box["width"] <= view["width"] + 1
            and box["y"] + box["height"] <= view["height"] + 1
        )
        assert inside, f"{locator} at {box} is not inside the {view['width']}×{view['height']} viewport"
        cover = locator.evaluate(_ON_TOP_JS)
        assert cover is None, f"{locator} is covered at its centre by {cover}"
        return box

    @staticmethod
    def assert_drawn(page: Any, locator: Any, *, colour: str | None = None, min_fraction: float = 0.002) -> float:
        """``locator`` (a plot) has drawn pixels: at least ``min_fraction`` of its screenshot is
        ``colour`` (hex, ±40 per channel), or, without ``colour``, differs from its most common
        (background) colour. Returns that fraction."""
        import io

        import numpy as np
        from PIL import Image

        Seen.assert_visible(page, locator)
        pixels = np.asarray(Image.open(io.BytesIO(locator.screenshot())).convert("RGB"), dtype=np.int16)
        flat = pixels.reshape(-1, 3)
        if colour is None:
            values, counts = np.unique(flat, axis=0, return_counts=True)
            target = values[np.argmax(counts)]
            drawn = np.abs(flat - target).max(axis=1) > 40
        else:
            target = np.array([int(colour.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)])
            drawn = np.abs(flat - target).max(axis=1) <= 40
        fraction = float(drawn.mean())
        what = "non-background" if colour is None else colour
        assert fraction >= min_fraction, f"{locator}: {fraction:.4f} of its pixels are {what} (< {min_fraction})"
        return fraction


@pytest.fixture(scope="session")
def seen() -> type[Seen]:
    """Browser-test assertions on what is shown: ``seen.assert_visible(page, locator)``,
    ``seen.assert_drawn(page, locator)``."""
    return Seen


#: Where browser tests write the README's screenshots (`make screenshots` sets it to docs/img);
#: unset, they go to the test's temporary folder, so that a test run never changes a tracked file.
SCREENSHOTS_ENV = "REDCLUMP_SCREENSHOTS"
#: Largest screenshot kept (bytes): the repository carries them.
MAX_SCREENSHOT_BYTES = 400_000


@pytest.fixture
def screenshot(tmp_path: Path) -> Callable[[Any, str], Path]:
    """``screenshot(page, name)`` saves what ``page`` shows as ``name``.png, quantised to 256
    colours (the page is flat colours and a density image), in $REDCLUMP_SCREENSHOTS or the
    test's temporary folder; it fails if the file is over :data:`MAX_SCREENSHOT_BYTES`."""
    import io

    from PIL import Image

    folder = Path(os.environ.get(SCREENSHOTS_ENV) or tmp_path)

    def take(page: Any, name: str) -> Path:
        path = folder / f"{name}.png"
        image = Image.open(io.BytesIO(page.screenshot())).convert("RGB").quantize(colors=256)
        image.save(path, optimize=True)
        size = path.stat().st_size
        assert size <= MAX_SCREENSHOT_BYTES, f"{path} is {size:,} bytes (> {MAX_SCREENSHOT_BYTES:,})"
        return path

    return take


@pytest.fixture(scope="session")
def small_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small mock built end to end (mock, train, infer with the catalogue estimate's files):
    ~30 s; Tier 2 keeps ~2,400 of its ~30,000 giants. Tests must not change its catalogue or estimates."""
    from redclump import pipeline

    workdir = tmp_path_factory.mktemp("small_build")
    mock.write_mock(workdir, mock.MockConfig(n_stars=200_000, seed=13, truth_fraction=0.3))
    pipeline.train(workdir, epochs=20, seed=0)
    pipeline.infer(workdir)
    return workdir
