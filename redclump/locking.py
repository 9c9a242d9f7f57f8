"""One writer per work folder, and no debris from a killed one.

Every command that writes into a work folder (``mock``, ``train``, ``infer``, ``build``,
``ingest``, and ``serve`` while it builds) holds :func:`workdir_lock` for as long as it writes.
The lock is an advisory ``flock`` on ``DIR/.lock``: the kernel releases it when its holder exits,
however it exits, so a lock left by a killed process (SIGKILL, power loss of a local disk) is
free for the next command without anyone deleting anything. The file also records who holds it
(pid, command, host, start time) for the refusal message; its content never decides anything.

Writers put their outputs under temporary names (``.NAME.tmp-PID``) and rename them into place
(:mod:`redclump.data.workdir`), so that a file or folder under a final name is always whole.
:func:`redclump.data.workdir.clean_stale` removes what a killed writer left behind; it runs when
the lock is taken, when no other writer can be using those names.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from redclump.data.workdir import LOCK_NAME, WorkFolder, clean_stale, pid_alive

__all__ = ["LOCK_NAME", "LockError", "WorkdirError", "clean_stale", "pid_alive", "workdir_lock"]


class WorkdirError(RuntimeError):
    """The work folder cannot be used for writing: it cannot be created, or it is read-only."""


class LockError(WorkdirError):
    """The work folder is in use by another redclump command."""


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return "another redclump command"
    return (
        f"`redclump {info.get('command', '?')}` (pid {info.get('pid', '?')} on {info.get('host', '?')}, "
        f"started {info.get('started', '?')})"
    )


@contextlib.contextmanager
def workdir_lock(workdir: Path | str, command: str) -> Iterator[Path]:
    """Hold the work folder's writer lock for the ``with`` block; yields the lock file's path.

    Raises
    ------
    LockError
        Another process holds the lock; the message names it and the folder.
    WorkdirError
        The folder cannot be created, or the lock file cannot be written in it (read-only).
    """
    workdir = Path(workdir)
    created = not workdir.exists()
    try:
        workdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"cannot create work folder {workdir}: {exc.strerror}"
        raise WorkdirError(msg) from None
    path = WorkFolder(workdir).lock
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            msg = f"work folder {workdir} is not writable ({exc.strerror}); nothing was written"
            raise WorkdirError(msg) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            msg = (
                f"work folder {workdir} is in use by {_holder(path)}; wait for it to finish "
                f"(two commands writing one folder at once would interleave their files)"
            )
            raise LockError(msg) from None
        # The holder before us may have removed the file after we opened it: then our lock is
        # on a name nobody else sees, so try again on the current file.
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        info = {
            "pid": os.getpid(),
            "command": command,
            "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        clean_stale(workdir)
        yield path
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(fd)
        if created:  # a command that failed before writing anything leaves no empty folder
            with contextlib.suppress(OSError):
                workdir.rmdir()
