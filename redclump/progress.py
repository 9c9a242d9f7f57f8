"""Progress for long steps: a bar on a terminal, log lines anywhere else.

On a terminal the user watches a tqdm bar. Without one (``redclump serve`` started by a service
manager, output sent to a file, CI) bars are off, so a log line is written at every tenth of the
work instead, with the count and the elapsed time, and one when the step ends.
"""

from __future__ import annotations

import logging
import sys
import time
from types import TracebackType
from typing import Any, TextIO

__all__ = ["LogProgress", "progress_bar"]

log = logging.getLogger("redclump")


class LogProgress:
    """A tqdm-like counter that logs a line at each 10 % of ``total`` and when closed.

    Examples
    --------
    >>> import logging, sys
    >>> handler, level = logging.StreamHandler(sys.stdout), log.level
    >>> log.addHandler(handler); log.setLevel(logging.INFO)
    >>> with LogProgress(total=4, desc="infer partitions", unit="part", clock=lambda: 0.0) as bar:
    ...     for _ in range(4):
    ...         bar.update(1)
    infer partitions: 1/4 part (25%), 0.0 s
    infer partitions: 2/4 part (50%), 0.0 s
    infer partitions: 3/4 part (75%), 0.0 s
    infer partitions: 4/4 part (100%), 0.0 s
    infer partitions: done, 4 part in 0.0 s
    >>> log.removeHandler(handler); log.setLevel(level)
    """

    def __init__(self, total: int, desc: str, unit: str, *, clock: Any = time.perf_counter) -> None:
        self.total = max(int(total), 0)
        self.desc = desc
        self.unit = unit
        self.n = 0
        self._clock = clock
        self._start = clock()
        self._logged_tenth = 0

    def update(self, n: int = 1) -> None:
        self.n += n
        if self.total <= 0:
            return
        tenth = min(10, (10 * self.n) // self.total)
        if tenth > self._logged_tenth:
            self._logged_tenth = tenth
            log.info(
                "%s: %d/%d %s (%d%%), %.1f s",
                self.desc,
                self.n,
                self.total,
                self.unit,
                round(100 * self.n / self.total),
                self._clock() - self._start,
            )

    def set_postfix(self, **_values: Any) -> None:
        """Accepted for tqdm compatibility; the postfix (e.g. a loss) is not logged."""

    def close(self) -> None:
        log.info("%s: done, %d %s in %.1f s", self.desc, self.n, self.unit, self._clock() - self._start)

    def __enter__(self) -> LogProgress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        if kind is None:
            self.close()


def progress_bar(total: int, desc: str, unit: str, *, stream: TextIO | None = None) -> Any:
    """A tqdm bar when ``stream`` (default stderr) is a terminal, else a :class:`LogProgress`."""
    stream = sys.stderr if stream is None else stream
    if stream.isatty():
        from tqdm import tqdm

        return tqdm(total=total, desc=desc, unit=unit, file=stream)
    return LogProgress(total, desc, unit)
