"""Files that appear under their final name only when whole.

Writers put a file or folder under a temporary name (``.NAME.tmp-PID``) and move it into place
with :func:`replace_dir` or :func:`write_text`; a folder being replaced is first moved aside
(``.NAME.old-PID``). A process killed at any instant therefore leaves, under a final name, the old
version whole, the new version whole, or nothing, plus temporaries that
:func:`redclump.locking.clean_stale` removes on the next run.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

__all__ = ["replace_dir", "tmp_name", "write_text"]


def tmp_name(final: Path, kind: str = "tmp") -> Path:
    """The temporary (``kind="tmp"``) or set-aside (``"old"``) name of ``final`` for this process."""
    return final.with_name(f".{final.name}.{kind}-{os.getpid()}")


def replace_dir(tmp: Path, final: Path) -> None:
    """Put the complete folder (or file) ``tmp`` in place of ``final``.

    ``final`` is first renamed aside in one atomic step, so that whenever the process is killed
    the name ``final`` holds the old version whole, nothing, or the new version whole, never a
    half-deleted folder; the set-aside copy is deleted last.
    """
    old = tmp_name(final, "old")
    if final.exists():
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
    os.replace(tmp, final)
    if old.is_dir():
        shutil.rmtree(old, ignore_errors=True)
    else:
        old.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> None:
    """Write a small text file (a manifest) atomically: temporary name, fsync, rename."""
    tmp = tmp_name(path)
    try:
        with tmp.open("w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
