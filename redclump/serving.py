"""`redclump serve`: what it decides before it serves (whether to build, who may connect), and
the serving itself (:func:`serve`).

Kept apart from the command line so that each rule is one small function with its own test.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

from redclump.data.workdir import WorkFolder

__all__ = [
    "MAX_PROCS",
    "ServeError",
    "allowed_origins",
    "default_procs",
    "die_with_parent",
    "exposure_warning",
    "is_loopback",
    "local_stylesheets",
    "release_memory",
    "serve",
    "session_cleanup",
    "should_build",
    "use_numba_cache",
]

log = logging.getLogger("redclump")

#: Server processes at most: beyond this the shared CPU, not the event loop, limits the sessions.
MAX_PROCS = 4


def default_procs() -> int:
    """`serve --procs` default: one server process per core, at most :data:`MAX_PROCS`."""
    return max(1, min(os.cpu_count() or 1, MAX_PROCS))


#: Where in the work folder numba keeps its compiled kernels (see :func:`use_numba_cache`).
NUMBA_CACHE = Path("numba_cache")


def use_numba_cache(workdir: Path) -> Path | None:
    """Point numba's on-disk cache of compiled kernels (``NUMBA_CACHE_DIR``) at
    ``workdir/numba_cache``, unless the environment already names one; returns the folder used,
    or None where the environment's is kept.

    The app's kernels that numba can cache (``cache=True``: the lasso's polygon test) are then
    compiled once per work folder instead of at every start where the installed source's
    ``__pycache__`` is not writable (measured: ~2 s of a start on 2 cores). It must run before
    numba is first imported: numba reads its configuration then. Datashader's aggregation
    kernels are generated at run time and cannot be cached; `serve` compiles them while the
    catalogue loads.
    """
    if os.environ.get("NUMBA_CACHE_DIR"):
        return None
    folder = Path(workdir).resolve() / NUMBA_CACHE
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:  # a read-only work folder: numba's own default (beside the source) applies
        return None
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    return folder


def release_memory() -> None:
    """Give the memory freed by an ended session back to the OS (glibc's ``malloc_trim``).

    Cut changes run in a thread pool (dashboard/live.py); glibc gives each thread its own heap,
    and multi-megabyte masks and images freed there stay mapped without this, so a server's
    memory did not come back after sessions ended (the soak test). Does nothing off glibc.
    """
    import gc

    gc.collect()  # a session's document, plots and state form reference cycles
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        pass


def session_cleanup(procs: int) -> dict[str, int]:
    """Bokeh server options that free a page's unused session sooner when there are several
    server processes.

    Bokeh builds a page's session when it serves the HTML, in whichever process answers; if the
    page's websocket then reaches another process, that one builds the session again and the
    first is never used. Bokeh frees unused sessions 15 s after they were made, checked every
    17 s: with many page visits that held a few hundred megabytes. A browser connects its
    websocket within a second or two of the HTML; one that is slower gets a session built for it
    on connecting, as above.
    """
    if procs <= 1:
        return {}
    return {"unused_session_lifetime_milliseconds": 5_000, "check_unused_sessions_milliseconds": 2_000}


def local_stylesheets(template: Any) -> Any:
    """Make ``template``'s page link Panel's stylesheets from this server, never from Panel's CDN.

    Panel gives its components CDN stylesheet links and rewrites them to the server's copies when
    it renders the page's HTML, in the process that answers that request. With several server
    processes the page's websocket may reach another process, which builds the session's document
    afresh without that rewrite, so an offline browser got unstyled widgets. This rewrites every
    document the template builds, and records the local path in the document as Panel's HTML
    rendering does, for the components made later (a pinned cut's table, a new tab's plot).
    """
    from panel.io.resources import LOCAL_DIST, patch_model_css
    from panel.io.state import state

    build = template.server_doc

    def server_doc(doc: Any = None, *args: Any, **kwargs: Any) -> Any:
        doc = build(doc, *args, **kwargs)
        dist_url = f"{state.rel_path}/{LOCAL_DIST}" if state.rel_path else LOCAL_DIST
        doc._template_variables["dist_url"] = dist_url  # what Panel links components made later to
        for root in doc.roots:
            patch_model_css(root, dist_url=dist_url)
        return doc

    template.server_doc = server_doc
    return template


class ServeError(ValueError):
    """`serve` cannot start as asked; the message says what to run instead."""


def should_build(workdir: Path, default_workdir: Path, *, build: bool) -> bool:
    """Whether `serve` must build the catalogue first.

    It builds by itself only into the default work folder (the README's one command) or when
    asked with ``--build``: a mistyped ``--workdir`` must not start a multi-gigabyte build.

    Raises
    ------
    ServeError
        ``workdir`` has no catalogue, is not the default folder and ``build`` is false.
    """
    if WorkFolder(workdir).has_catalogue():
        return False
    if build or Path(workdir).resolve() == Path(default_workdir).resolve():
        return True
    state = "does not exist" if not Path(workdir).exists() else "has no catalogue"
    msg = (
        f"work folder {workdir} {state}; nothing was built. Build it with "
        f"`redclump build --workdir {workdir}`, or serve and build at once with "
        f"`redclump serve --workdir {workdir} --build`"
    )
    raise ServeError(msg)


def is_loopback(address: str) -> bool:
    """Whether ``address`` only accepts connections from this machine."""
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def allowed_origins(address: str, port: int, extra: list[str] | None) -> list[str]:
    """Browser origins (``host[:port]``) whose websocket connections the server accepts.

    Loopback addresses accept the loopback origins; any other address must be given its
    origins explicitly (``--allow-websocket-origin``), since the names that other machines use to
    reach it are not knowable here.

    Raises
    ------
    ServeError
        A non-loopback ``address`` without ``extra`` origins.
    """
    origins = [f"127.0.0.1:{port}", f"localhost:{port}"]
    if not is_loopback(address):
        if not extra:
            msg = (
                f"--address {address} accepts connections from other machines: also give "
                f"--allow-websocket-origin HOST:{port} with the name browsers will use to reach this one"
            )
            raise ServeError(msg)
    elif address not in ("127.0.0.1", "localhost"):
        origins.append(f"{address}:{port}")
    return [*origins, *(extra or [])]


def exposure_warning(address: str, port: int) -> str | None:
    """The warning printed when the server is reachable from other machines, or None."""
    if is_loopback(address):
        return None
    return (
        f"WARNING: serving on {address}:{port}: the catalogue, the truth set's numbers and every "
        f"export become readable by anyone who can reach this port (there is no login). "
        f"Serve on 127.0.0.1 (the default) and use an SSH tunnel for a private session."
    )


def die_with_parent(parent_pid: int) -> None:
    """In a forked server process: end when the process that forked it ends, however it ends
    (SIGKILL included), so that a killed `serve --procs N` leaves no orphan holding the port.

    Linux delivers SIGTERM on the parent's death (``prctl(PR_SET_PDEATHSIG)``); elsewhere this
    does nothing.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before the call above
        os.kill(os.getpid(), signal.SIGTERM)


def serve(workdir: Path, *, address: str, port: int, procs: int, origins: list[str]) -> None:
    """Serve the app on ``address:port`` with ``procs`` server processes until interrupted.

    The catalogue is loaded (and datashader's kernel compiled) in a thread while Panel and
    HoloViews are imported, once per process before any fork, so every session and every server
    process shares it.
    """
    import threading

    from redclump.dashboard.app_data import load_app_data

    folder = str(Path(workdir).resolve())
    # Load the catalogue (Arrow and numpy: mostly outside the GIL) and compile datashader's
    # kernel (LLVM: outside the GIL) in a thread while this one imports Panel and HoloViews.
    loaded: dict[str, Any] = {}

    def load() -> None:
        try:
            loaded["data"] = load_app_data(folder)  # once per process, shared by every session
            from redclump.dashboard.views import compile_kernels

            compile_kernels()
        except BaseException as exc:  # re-raised below, in the main thread
            loaded["error"] = exc

    loader = threading.Thread(target=load, name="redclump-load", daemon=True)
    loader.start()
    import panel as pn

    from redclump.dashboard.app import create_app

    loader.join()
    if "error" in loaded:
        raise loaded["error"]
    log.info("serving on http://%s:%d (%d server process(es))", address, port, procs)
    if procs > 1:  # forked after the data is loaded: the processes share its pages
        parent = os.getpid()
        os.register_at_fork(after_in_child=lambda: die_with_parent(parent))

    def page() -> Any:
        pn.state.on_session_destroyed(lambda _context: release_memory())
        return local_stylesheets(create_app(workdir=folder))

    pn.serve(
        {"redclump": page},
        num_procs=procs,
        port=port,
        address=address,
        show=False,
        allow_websocket_origin=origins,
        title="redclump",
        websocket_max_message_size=10 * 1024 * 1024,
        **session_cleanup(procs),
    )
