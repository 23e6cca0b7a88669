"""Child processes that parse untrusted PDFs under a wall-clock and an address-space limit.

pdfium and tesseract are native code fed with files from the internet: a hostile or broken file
may loop, allocate without bound or crash. They run in pebble process pools (which kill a task
that overruns its timeout and replace a dead worker), each worker capped with RLIMIT_AS, so such
a file fails alone and the caller only sees an exception.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import signal
import threading
import time
from multiprocessing.context import BaseContext

from pebble import ProcessPool

_MIB = 1024 * 1024
# How often a child checks that the process that started it is alive.
_WATCH_S = 0.5


def exit_with(pid: int) -> None:
    """Kill this process soon after process ``pid`` is gone: a killed daemon must not leave
    children working on its documents. (Not PR_SET_PDEATHSIG: a forkserver child's parent is
    the forkserver, which outlives the process that asked for the child.)"""

    def watch() -> None:
        while True:
            time.sleep(_WATCH_S)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os.kill(os.getpid(), signal.SIGKILL)
            except PermissionError:
                pass  # alive, as another user

    threading.Thread(target=watch, name=f"exit-with-{pid}", daemon=True).start()


def child_context() -> BaseContext:
    # forkserver: children fork from a small clean server rather than from the caller, which may
    # be large or run threads (scheduler, HTTP client) that fork does not carry safely.
    context = multiprocessing.get_context("forkserver")
    # "__main__" first, as by default: children then skip re-importing the main module.
    context.set_forkserver_preload(["__main__", "attrap.documents.extract", "attrap.documents.ocr"])
    return context


def _limit_child(max_memory_mb: int, environment: dict[str, str], parent: int) -> None:
    exit_with(parent)
    limit = max_memory_mb * _MIB
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    os.environ.update(environment)


def limited_pool(
    workers: int, max_memory_mb: int, environment: dict[str, str] | None = None
) -> ProcessPool:
    """A pool whose workers (and the programs they run) may not map more than max_memory_mb.

    Use it as a context manager; schedule tasks with ``pool.schedule(fn, args, timeout=…)``.
    """
    return ProcessPool(
        max_workers=workers,
        initializer=_limit_child,
        initargs=(max_memory_mb, environment or {}, os.getpid()),
        context=child_context(),
    )
