"""One writer per work folder: a second command is refused, a killed holder's lock is free."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from redclump.data import workdir as work_folder

from redclump import locking

MOCK = [sys.executable, "-m", "redclump.cli", "mock", "--stars", "100000", "--workers", "1"]


def redclump(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "redclump.cli", *args], capture_output=True, text=True, check=False, timeout=300
    )


def hold_lock(workdir: Path, command: str = "build") -> subprocess.Popen[str]:
    """A real process that takes the lock and waits; returns once it holds it."""
    code = textwrap.dedent(
        f"""
        import sys, time
        from redclump.locking import workdir_lock
        with workdir_lock({str(workdir)!r}, {command!r}):
            print("held", flush=True)
            time.sleep(120)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_second_writer_is_refused_while_the_first_runs(tmp_path: Path) -> None:
    holder = hold_lock(tmp_path, "build")
    try:
        result = redclump("infer", "--workdir", str(tmp_path), "--workers", "1")
        assert result.returncode == 2
        message = result.stderr.strip()
        assert f"work folder {tmp_path} is in use by `redclump build` (pid {holder.pid}" in message
        assert len(message.splitlines()) == 1
        # The refused command wrote nothing, and the holder's lock is untouched.
        assert sorted(p.name for p in tmp_path.iterdir()) == [locking.LOCK_NAME]
        assert json.loads((tmp_path / locking.LOCK_NAME).read_text())["pid"] == holder.pid
    finally:
        holder.kill()
        holder.wait()


def test_two_real_builds_on_one_folder(tmp_path: Path) -> None:
    """A real `mock` holds the folder; a `build` started meanwhile is refused, the mock completes."""
    workdir = tmp_path / "w"
    first = subprocess.Popen(
        [*MOCK, "--workdir", str(workdir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120
    while not (workdir / locking.LOCK_NAME).exists() and time.time() < deadline:
        time.sleep(0.05)
    second = redclump("build", "--workdir", str(workdir), "--stars", "100000", "--workers", "1", "--epochs", "1")
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert second.returncode == 2
    assert "is in use by `redclump mock`" in second.stderr
    assert "kept" in out
    assert not (workdir / locking.LOCK_NAME).exists()
    assert not (workdir / "models").exists()  # the refused build trained nothing


def test_lock_of_a_killed_process_is_taken_over(tmp_path: Path) -> None:
    holder = hold_lock(tmp_path, "train")
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    # The file still names the dead process; its content does not decide anything.
    assert json.loads((tmp_path / locking.LOCK_NAME).read_text())["pid"] == holder.pid
    result = redclump("infer", "--workdir", str(tmp_path), "--workers", "1")
    assert result.returncode == 2
    assert "no input partitions" in result.stderr  # it got past the lock to the step's own check
    assert not (tmp_path / locking.LOCK_NAME).exists()


def test_lock_file_with_a_dead_pid_is_taken_over(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / locking.LOCK_NAME).write_text(json.dumps({"pid": dead.pid, "command": "build"}))
    with locking.workdir_lock(tmp_path, "mock") as path:
        assert json.loads(path.read_text())["pid"] == os.getpid()
    assert not path.exists()


def test_lock_is_exclusive_within_one_process_too(tmp_path: Path) -> None:
    with (
        locking.workdir_lock(tmp_path, "build"),
        pytest.raises(locking.LockError, match="in use by `redclump build`"),
        locking.workdir_lock(tmp_path, "ingest"),
    ):
        pass


def test_taking_the_lock_removes_what_killed_writers_left(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = [
        tmp_path / f".catalogue.tmp-{dead.pid}",
        tmp_path / f".models.old-{dead.pid}",
        tmp_path / f".truthset.tmp-{dead.pid}.parquet",
    ]
    stale[0].mkdir()
    (stale[0] / "part-00000.parquet").write_bytes(b"PAR1 half")
    stale[1].mkdir()
    stale[2].write_bytes(b"half")
    alive = tmp_path / f".catalogue.tmp-{os.getppid()}"  # a live process's: not touched
    alive.mkdir()
    keep = [tmp_path / "truthset.parquet", tmp_path / ".hidden-user-file"]
    for path in keep:
        path.write_text("user data")
    with locking.workdir_lock(tmp_path, "infer"):
        pass
    assert not any(p.exists() for p in stale)
    assert alive.exists() and all(p.read_text() == "user data" for p in keep)


def test_unwritable_or_uncreatable_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with (
        pytest.raises(locking.WorkdirError, match=f"cannot create work folder {blocker}/sub"),
        locking.workdir_lock(blocker / "sub", "mock"),
    ):
        pass
    # A read-only folder (simulated: the tests may run as root, who writes anyway).
    real_open = os.open

    def read_only(path: object, *args: object, **kwargs: object) -> int:
        if str(path).startswith(str(tmp_path / "ro")):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    (tmp_path / "ro").mkdir()
    monkeypatch.setattr(os, "open", read_only)
    with (
        pytest.raises(locking.WorkdirError, match=f"work folder {tmp_path / 'ro'} is not writable"),
        locking.workdir_lock(tmp_path / "ro", "mock"),
    ):
        pass


def test_failed_command_leaves_no_empty_folder(tmp_path: Path) -> None:
    result = redclump("infer", "--workdir", str(tmp_path / "typo"), "--workers", "1")
    assert result.returncode == 2
    assert not (tmp_path / "typo").exists()


def test_replace_dir_never_leaves_a_half_folder(tmp_path: Path) -> None:
    final, new = tmp_path / "catalogue", tmp_path / ".catalogue.tmp-1"
    final.mkdir()
    (final / "old.parquet").write_text("old")
    new.mkdir()
    (new / "new.parquet").write_text("new")
    work_folder.replace_dir(new, final)
    assert [p.name for p in final.iterdir()] == ["new.parquet"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["catalogue"]
