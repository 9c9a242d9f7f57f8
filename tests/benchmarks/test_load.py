"""Load: many scripted sessions on one `redclump serve`, each changing a random cut every ~3 s.

Sessions are Bokeh clients (``bokeh.client.pull_session``), each in its own thread with its own
event loop, on loopback only. A change sets one cut slider as a browser does on release
(``value_throttled``); its latency is the time until the server's new numbers (the numbers
pane's text) arrive at that client. Reported: p50/p95 latency at 1, 5, 10 and 20 sessions, and
the server's memory (PSS summed over its processes, so pages shared between forked processes
count once). Results go to BENCHMARKS.md, section "Concurrent sessions".

Run: ``REDCLUMP_BENCH_WORKDIR=DIR pytest -m benchmark tests/benchmarks/test_load.py`` on a built
work folder (default ``.redclump``); ``REDCLUMP_BENCH_PROCS`` sets ``serve --procs`` (default: one per core, at most 4).
"""

from __future__ import annotations

import html
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.benchmark

ROOT = Path(__file__).resolve().parents[2]
LEVELS = (1, 5, 10, 20)
CHANGES_PER_SESSION = 5
PERIOD_S = 3.0
SECTION = "## Concurrent sessions"
#: Slider → range of random values (inside the app's bounds).
SLIDERS = {"dp_min": (180.0, 300.0), "dnu_max": (3.0, 8.0), "teff_min": (3600.0, 5000.0), "abs_b_min": (0.0, 40.0)}
COUNT = re.compile(r"id=['\"]n-selected['\"]>([0-9,]+)<")
#: What `redclump -v serve` logs for each cut change it serves (dashboard/live.py).
SERVED = re.compile(r"cut served in (\d+) ms: computed (\d+) ms \(in the pool\), drawn (\d+) ms")


def _server_memory_mb(pid: int) -> tuple[float, float]:
    """(PSS summed over the server's processes, RSS of the largest) in MB."""
    import psutil

    parent = psutil.Process(pid)
    procs = [parent, *parent.children(recursive=True)]
    pss = sum(p.memory_full_info().pss for p in procs)
    return pss / 1024**2, max(p.memory_info().rss for p in procs) / 1024**2


def _wait_for_port(port: int, timeout: float = 300) -> None:
    """Wait until the server under test listens on ``port`` (at most ``timeout`` s)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.5)


class Session(threading.Thread):
    """One scripted user: opens the page, then changes a random cut every ~PERIOD_S seconds."""

    def __init__(self, url: str, seed: int, start: threading.Barrier) -> None:
        super().__init__(daemon=True)
        self.url, self.rng, self.start_together = url, np.random.default_rng(seed), start
        self.latencies: list[float] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        import holoviews  # noqa: F401  (registers the model types the page uses)
        import panel.models  # noqa: F401
        from bokeh.client import pull_session
        from bokeh.models import Slider

        try:
            session = pull_session(url=self.url)
            models = list(session.document.models)
            numbers = next(m for m in models if "n-selected" in str(getattr(m, "text", "") or ""))
            sliders = {
                name: next(m for m in models if isinstance(m, Slider) and f"slider-{name}" in m.css_classes)
                for name in SLIDERS
            }
        except BaseException as exc:  # reported by the test
            self.error = exc
            self.start_together.abort()
            return
        try:
            self.start_together.wait()
            loop = session._connection._loop
            for _ in range(CHANGES_PER_SESSION):
                time.sleep(self.rng.uniform(0.5, 1.5) * PERIOD_S)  # think time
                name = str(self.rng.choice(list(SLIDERS)))
                value = sliders[name].value
                while value == sliders[name].value:  # a change the server must answer
                    value = round(float(self.rng.uniform(*SLIDERS[name])), 1)
                before = numbers.text
                start = time.perf_counter()
                sliders[name].set_from_json("value", value)
                sliders[name].set_from_json("value_throttled", value)  # as on release in a browser
                # The client checks its predicate only as messages arrive: stop it after a minute
                # without the answer.
                timeout = loop.call_later(60, loop.stop)
                session._connection._loop_until(lambda before=before: numbers.text != before)
                loop.remove_timeout(timeout)
                if numbers.text == before:
                    raise TimeoutError(f"no new numbers 60 s after {name} = {value}")
                self.latencies.append(time.perf_counter() - start)
                assert COUNT.search(html.unescape(numbers.text))
        except BaseException as exc:
            self.error = exc
        finally:
            session.close()


def test_concurrent_sessions(built_workdir: Path, port: int) -> None:
    workdir = built_workdir
    from redclump.serving import default_procs

    procs = os.environ.get("REDCLUMP_BENCH_PROCS") or str(default_procs())
    argv = [sys.executable, "-m", "redclump.cli", "-v", "serve", "--workdir", str(workdir), "--port", str(port)]
    log_path = workdir / "bench-serve.log"
    log = log_path.open("w")
    server = subprocess.Popen([*argv, *(["--procs", procs] if procs else [])], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/redclump"
    rows = []
    try:
        _wait_for_port(port)
        idle_pss, _ = _server_memory_mb(server.pid)
        for level in LEVELS:
            log.flush()
            offset = log_path.stat().st_size
            barrier = threading.Barrier(level)
            sessions = [Session(url, seed=1000 * level + i, start=barrier) for i in range(level)]
            for session in sessions:
                session.start()
            peak = [0.0, 0.0]
            while any(s.is_alive() for s in sessions):
                pss, rss = _server_memory_mb(server.pid)
                peak = [max(peak[0], pss), max(peak[1], rss)]
                time.sleep(0.5)
            errors = [s.error for s in sessions if s.error is not None]
            assert not errors, errors[0]
            latencies = np.concatenate([s.latencies for s in sessions])
            with log_path.open() as text:
                text.seek(offset)
                served = np.array([[float(v) for v in m.groups()] for m in SERVED.finditer(text.read())]).reshape(-1, 3)
            timing = (
                np.median(served[:, 0]),
                np.percentile(served[:, 0], 95),
                np.median(served[:, 1]),
                np.median(served[:, 2]),
            )
            rows.append((level, np.median(latencies), np.percentile(latencies, 95), len(latencies), *timing, *peak))
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()
    import psutil

    n_procs = procs or "default"
    lines = [
        SECTION,
        "",
        f"`tests/benchmarks/test_load.py`: `redclump serve --procs {n_procs}` on {workdir.name} "
        f"({os.cpu_count()} cores, {psutil.virtual_memory().total / 1024**3:.0f} GB); each session a Bokeh client that "
        f"changes a random cut slider every {PERIOD_S:g} s (random think time, {CHANGES_PER_SESSION} changes), "
        "latency = change sent → new numbers received by the client; served = the server's own time from "
        "the change's arrival to its numbers and plots set (as `redclump -v serve` logs it), of which computed "
        "(mask, numbers, images, in the thread pool) and drawn (on the event loop); the rest of the latency is "
        "the client (Python, on the same cores) and the websocket. Server memory: PSS summed over the server's "
        f"processes (idle: {idle_pss:,.0f} MB).",
        "",
        "| sessions | change → numbers p50 / p95 | served p50 / p95 | computed p50 | drawn p50 | changes "
        "| server PSS, peak | largest process RSS | target p95 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    targets = {10: "≤ 500 ms", 20: "≤ 1 s"}
    lines += [
        f"| {n} | {1e3 * p50:.0f} / {1e3 * p95:.0f} ms | {s50:.0f} / {s95:.0f} ms | {c50:.0f} ms | {d50:.0f} ms "
        f"| {count} | {pss:,.0f} MB | {rss:,.0f} MB | {targets.get(n, '')} |"
        for n, p50, p95, count, s50, s95, c50, d50, pss, rss in rows
    ]
    if len(rows) > 1:
        lines += [
            "",
            f"Memory per further session: {(rows[-1][-2] - rows[0][-2]) / (rows[-1][0] - rows[0][0]):,.0f} MB "
            f"(peak PSS at {rows[-1][0]} sessions less that at {rows[0][0]}, per session; target ≤ 60 MB).",
        ]
    path = ROOT / "BENCHMARKS.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    text = text.split(SECTION)[0].rstrip() + "\n\n" + "\n".join(lines) + "\n"
    path.write_text(text)


BROWSER_SECTION = "## Concurrent Chromium pages"
PAGES = 4
STEPS_PER_PAGE = 5


def _step_pages(pages: list, rng: np.random.Generator) -> list[float]:  # type: ignore[type-arg]
    """Step each page's ΔP slider STEPS_PER_PAGE times at random times, all pages at once (one
    thread drives them in turn: Playwright's pages are not shared between threads); each step
    timed from the key press to the new count on screen."""
    counts = [page.locator("#n-selected").first for page in pages]
    handles = [page.locator(".noUi-handle").first for page in pages]
    due = [time.perf_counter() + rng.uniform(0.5, 1.5) * PERIOD_S for _ in pages]
    waiting: list[tuple[str, float] | None] = [None for _ in pages]
    steps = [0 for _ in pages]
    latencies = []
    while any(n < STEPS_PER_PAGE for n in steps) or any(waiting):
        for i, page in enumerate(pages):
            now = time.perf_counter()
            if waiting[i] is not None:
                before, start = waiting[i]  # type: ignore[misc]
                if counts[i].inner_text() != before:
                    latencies.append(time.perf_counter() - start)
                    waiting[i] = None
                    due[i] = time.perf_counter() + rng.uniform(0.5, 1.5) * PERIOD_S
                elif now - start > 60:
                    raise TimeoutError(f"page {i}: no new count 60 s after a slider step")
            elif steps[i] < STEPS_PER_PAGE and now >= due[i]:
                before = counts[i].inner_text()
                handles[i].focus()
                waiting[i] = (before, time.perf_counter())
                page.keyboard.press("ArrowRight" if steps[i] % 2 == 0 else "ArrowLeft")
                steps[i] += 1
        time.sleep(0.005)
    return latencies


def test_concurrent_chromium_pages(browser, built_workdir: Path, port: int) -> None:  # type: ignore[no-untyped-def]
    """PAGES Chromium pages on one `redclump serve`, on the same machine as the server, each
    stepping the ΔP slider: key press → new count visible, p50/p95 (target p95 ≤ 1 s at 4 pages)."""
    workdir = built_workdir
    from redclump.serving import default_procs

    log = (workdir / "bench-serve-pages.log").open("w")
    procs = os.environ.get("REDCLUMP_BENCH_PROCS") or str(default_procs())
    argv = [sys.executable, "-m", "redclump.cli", "serve", "--workdir", str(workdir), "--port", str(port)]
    argv += ["--procs", procs]
    server = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/redclump"

    try:
        _wait_for_port(port)
        pages = [browser.new_page(viewport={"width": 1600, "height": 1000}) for _ in range(PAGES)]
        for page in pages:
            page.goto(url, timeout=180_000)
            page.locator("#n-selected").first.wait_for(timeout=180_000)
        latencies = np.array(_step_pages(pages, np.random.default_rng(0)))
        for page in pages:
            page.close()
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()
    lines = [
        BROWSER_SECTION,
        "",
        f"`tests/benchmarks/test_load.py::test_concurrent_chromium_pages`: {PAGES} Chromium pages (1600×1000) on "
        f"one `redclump serve --procs {procs}`, browser and server on the same {os.cpu_count()} cores; each "
        f"page steps the ΔP slider {STEPS_PER_PAGE} times with the keyboard (think time "
        f"{0.5 * PERIOD_S:g}–{1.5 * PERIOD_S:g} s), key press → new count visible.",
        "",
        "| pages | key press → new count p50 | p95 | steps | target p95 |",
        "|---|---|---|---|---|",
        f"| {PAGES} | {1e3 * np.median(latencies):.0f} ms | {1e3 * np.percentile(latencies, 95):.0f} ms "
        f"| {len(latencies)} | ≤ 1 s |",
    ]
    path = ROOT / "BENCHMARKS.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    before, _, after = text.partition(BROWSER_SECTION)
    rest = after.split("\n## ", 1)[1] if "\n## " in after else ""
    text = before.rstrip() + "\n\n" + "\n".join(lines) + "\n" + (f"\n## {rest}" if rest else "")
    path.write_text(text)
