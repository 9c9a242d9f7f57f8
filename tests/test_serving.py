"""`redclump serve`: no accidental builds, loopback by default, forged origins refused, and a
killed server leaves nothing to clean up."""

from __future__ import annotations

import base64
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from redclump.data import mock

from redclump import cli, pipeline, serving

KILL_AT = Path(__file__).parent / "fixtures" / "kill_at.py"


def redclump(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "redclump.cli", *args], capture_output=True, text=True, check=False, timeout=300
    )


# ---- no accidental builds -----------------------------------------------------------------------
def test_serve_builds_by_itself_only_into_the_default_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert serving.should_build(Path(".redclump"), cli.DEFAULT_WORKDIR, build=False)
    assert serving.should_build(tmp_path / ".redclump", cli.DEFAULT_WORKDIR, build=False)
    assert serving.should_build(tmp_path / "other", cli.DEFAULT_WORKDIR, build=True)
    (tmp_path / "half").mkdir()
    with pytest.raises(serving.ServeError, match="has no catalogue"):
        serving.should_build(tmp_path / "half", cli.DEFAULT_WORKDIR, build=False)
    (tmp_path / "built" / "catalogue").mkdir(parents=True)
    (tmp_path / "built" / "catalogue" / "_manifest.json").write_text("{}")
    assert not serving.should_build(tmp_path / "built", cli.DEFAULT_WORKDIR, build=True)


def test_mistyped_workdir_stops_with_the_command_to_build(tmp_path: Path) -> None:
    typo = tmp_path / "nonexistent"
    result = redclump("serve", "--workdir", str(typo))
    assert result.returncode == 2
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1
    assert f"work folder {typo} does not exist; nothing was built" in message
    assert f"`redclump build --workdir {typo}`" in message and f"`redclump serve --workdir {typo} --build`" in message
    assert not typo.exists()


# ---- exposure -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("127.0.0.2", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("example.org", False),
    ],
)
def test_loopback_addresses(address: str, loopback: bool) -> None:
    assert serving.is_loopback(address) is loopback
    assert (serving.exposure_warning(address, 5006) is None) is loopback


@pytest.mark.parametrize(("cores", "procs"), [(1, 1), (2, 2), (16, serving.MAX_PROCS), (None, 1)])
def test_default_server_processes_follow_the_cores(
    cores: int | None, procs: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    assert serving.default_procs() == procs


def test_several_processes_free_unused_sessions_sooner() -> None:
    assert serving.session_cleanup(1) == {}
    options = serving.session_cleanup(2)
    assert options["unused_session_lifetime_milliseconds"] < 15_000  # Bokeh's default
    assert options["check_unused_sessions_milliseconds"] < options["unused_session_lifetime_milliseconds"]


def test_origins() -> None:
    assert serving.allowed_origins("127.0.0.1", 5006, None) == ["127.0.0.1:5006", "localhost:5006"]
    assert serving.allowed_origins("0.0.0.0", 80, ["lab.example.org:80"])[-1] == "lab.example.org:80"
    with pytest.raises(serving.ServeError, match="--allow-websocket-origin HOST:5006"):
        serving.allowed_origins("0.0.0.0", 5006, None)


def test_public_address_needs_origins_and_warns(tmp_path: Path) -> None:
    refused = redclump("serve", "--address", "0.0.0.0", "--workdir", str(tmp_path))
    assert refused.returncode == 2
    assert "--address 0.0.0.0 accepts connections from other machines" in refused.stderr
    warned = redclump(
        "serve", "--address", "0.0.0.0", "--allow-websocket-origin", "lab:5006", "--workdir", str(tmp_path / "x")
    )
    assert warned.returncode == 2  # no catalogue there, but the warning came first
    assert "readable by anyone who can reach this port" in warned.stderr


# ---- a real server --------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _hidden(workdir: Path) -> list[str]:
    return sorted(p.name for p in workdir.iterdir() if p.name.startswith("."))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, serve_app):  # type: ignore[no-untyped-def]
    """A small built folder; one `serve` killed while writing its candidate cache, then one that
    runs (on loopback)."""
    workdir = tmp_path_factory.mktemp("serve")
    mock.write_mock(workdir, mock.MockConfig(n_stars=100_000, seed=3, truth_fraction=0.3))
    pipeline.train(workdir, epochs=1)
    pipeline.infer(workdir)
    argv = ["serve", "--workdir", str(workdir), "--port", str(_free_port())]
    code = KILL_AT.read_text() + f"\nrun(('feather', 1, 'during'), {argv!r}, {str(workdir)!r})\n"
    killed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False)
    after_kill = _hidden(workdir), sorted(p.name for p in workdir.glob("app_candidates-*"))
    with serve_app(workdir, workdir.parent / "serve.log") as (url, proc):
        with urllib.request.urlopen(url, timeout=60) as response:
            page = response.read().decode()
        port = int(url.split(":")[2].split("/")[0])
        yield {"workdir": workdir, "port": port, "proc": proc, "killed": killed, "after_kill": after_kill, "page": page}


@pytest.mark.slow
def test_server_killed_while_writing_its_cache_leaves_nothing_to_clean(server) -> None:  # type: ignore[no-untyped-def]
    assert server["killed"].returncode == -signal.SIGKILL, server["killed"].stderr
    hidden, caches = server["after_kill"]
    assert caches == []  # no half-written cache under its final name
    # Only the half-written temporary, under a name no reader opens.
    assert len(hidden) == 1 and re.fullmatch(r"\.app_candidates-\w+\.arrow\.tmp-\d+", hidden[0]), hidden
    # The next server started by itself: it removed the killed one's temporary and wrote the cache.
    assert _hidden(server["workdir"]) == []
    assert len(list(server["workdir"].glob("app_candidates-*.arrow"))) == 1


def _handshake(port: int, origin: str, token: str | None) -> int:
    """Open a websocket to the app with the given Origin; returns the HTTP status (101 = accepted)."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        "GET /redclump/ws HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        f"Origin: {origin}",
    ]
    if token:
        lines.append(f"Sec-WebSocket-Protocol: bokeh, {token}")
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        status = sock.recv(4096).decode(errors="replace").split("\r\n", 1)[0]
    return int(status.split()[1])


@pytest.mark.slow
def test_forged_websocket_origin_is_refused(server) -> None:  # type: ignore[no-untyped-def]
    match = re.search(r'"token":\s*"([^"]+)"', server["page"])
    assert match, "no session token in the page"
    port = server["port"]
    assert _handshake(port, f"http://127.0.0.1:{port}", match[1]) == 101
    for forged in ("http://evil.example.com", f"http://127.0.0.1:{port + 1}", "null"):
        assert _handshake(port, forged, match[1]) == 403, forged


@pytest.mark.slow
def test_killed_server_leaves_nothing_to_clean(server) -> None:  # type: ignore[no-untyped-def]
    before = sorted(p.name for p in server["workdir"].iterdir())
    server["proc"].send_signal(signal.SIGKILL)
    server["proc"].wait()
    assert sorted(p.name for p in server["workdir"].iterdir()) == before
    assert _hidden(server["workdir"]) == []


@pytest.mark.slow
def test_server_processes_share_the_data_and_end_with_their_parent(server) -> None:  # type: ignore[no-untyped-def]
    """`serve --procs 2`: two forked server processes answer; killing the parent with SIGKILL
    takes them down too (no orphan keeps the port)."""
    import psutil

    port = _free_port()
    argv = ["serve", "--workdir", str(server["workdir"]), "--port", str(port), "--procs", "2"]
    parent = subprocess.Popen([sys.executable, "-m", "redclump.cli", *argv], stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/redclump", timeout=30) as response:
                    assert response.status == 200
                break
            except OSError:
                time.sleep(0.5)
        children = psutil.Process(parent.pid).children()
        assert len(children) == 2
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    _gone, alive = psutil.wait_procs(children, timeout=15)
    assert not alive, alive
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


def test_compiled_kernels_are_cached_in_the_work_folder(tmp_path: Path) -> None:
    """`serve` points numba's cache at WORKDIR/numba_cache: the lasso's kernel, compiled in one
    process, is there for the next (and an environment's own NUMBA_CACHE_DIR is kept)."""
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from redclump import serving\n"
        "print(serving.use_numba_cache(Path(sys.argv[1])))\n"
        "from redclump.dashboard.region import compile_kernel\n"
        "compile_kernel()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], env=env, capture_output=True, text=True, check=True
    )
    folder = tmp_path / "numba_cache"
    assert out.stdout.strip() == str(folder.resolve())
    assert [p.name for p in folder.rglob("*_inside_polygon*.nbi")], list(folder.rglob("*"))
    elsewhere = tmp_path / "mine"
    env["NUMBA_CACHE_DIR"] = str(elsewhere)
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "w2")], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "None"
    assert list(elsewhere.rglob("*.nbi")) and not (tmp_path / "w2").exists()
