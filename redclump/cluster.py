"""Where a step's partitions run: this process, a local dask cluster, or an existing one."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

__all__ = ["dask_client"]


@contextlib.contextmanager
def dask_client(workers: int, scheduler: str | None) -> Iterator[Any]:
    """A dask distributed client: an existing cluster, a local one, or None for in-process."""
    import distributed

    quiet = logging.getLogger("redclump").level > logging.DEBUG
    for name in ("distributed", "tornado", "asyncio"):
        logging.getLogger(name).setLevel(logging.CRITICAL if quiet else logging.INFO)
    del distributed
    if scheduler:
        from distributed import Client

        with Client(scheduler) as client:
            yield client
        return
    if workers <= 1:
        yield None
        return
    import dask
    from distributed import Client, LocalCluster

    # distributed's nannies default to MALLOC_TRIM_THRESHOLD_=65536, which makes numpy's large
    # temporary arrays page-fault on every allocation (measured: 3x the system time).
    with (
        dask.config.set(
            {
                "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
                "distributed.worker.memory.spill": False,
            }
        ),
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, memory_limit="auto"
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client
