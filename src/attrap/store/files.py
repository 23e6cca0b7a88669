"""Files written whole or not at all, under ``storage.data_dir``: the PDF store (``pdfs.py``)
and the HTTP client's page cache (``http_cache.py``).

A file is first written to a temporary file in its final directory, then renamed over its final
name (``os.replace``, atomic within one file system): a reader never sees half a file. Temporary
files are named after their writer (``.<host>~<pid>~<random>.part``), so that those a killed
process left behind are recognised: ``remove_stale_parts`` removes them at once when their
writer ran on this machine and is gone, and only when old otherwise (a ``data_dir`` shared
between machines, whose other writers this machine cannot see).
"""

from __future__ import annotations

import os
import re
import socket
import tempfile
import time
from pathlib import Path

# A temporary file this old belongs to no live download: its process was killed.
STALE_PART_S = 3600.0
TEMP_PREFIX, TEMP_SUFFIX = ".", ".part"
_OWNER = re.compile(r"^\.(?P<host>[^~]+)~(?P<pid>\d+)~")


def temp_prefix() -> str:
    """The start of this process's temporary file names: ``.<host>~<pid>~``."""
    return f"{TEMP_PREFIX}{socket.gethostname()}~{os.getpid()}~"


def new_temporary(directory: Path) -> tuple[int, Path]:
    """A new temporary file of this process in ``directory`` (created if needed): its open file
    descriptor and its path. The caller renames it over the final name or removes it."""
    directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=directory, prefix=temp_prefix(), suffix=TEMP_SUFFIX)
    return fd, Path(name)


def temporary_files(directory: Path) -> list[Path]:
    """The temporary files in ``directory``, whoever writes them."""
    return sorted(directory.glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"))


def _writer_is_dead(path: Path) -> bool:
    owner = _OWNER.match(path.name)
    if owner is None or owner["host"] != socket.gethostname():
        return False
    try:
        os.kill(int(owner["pid"]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def remove_stale_parts(directory: Path, *, older_than_s: float = STALE_PART_S) -> int:
    """Delete the temporary files in ``directory`` whose writer died on this machine, or that
    were untouched for ``older_than_s``; how many. Others may belong to a process writing
    right now."""
    limit = time.time() - older_than_s
    removed = 0
    for path in temporary_files(directory):
        try:
            if _writer_is_dead(path) or path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            pass  # removed meanwhile by the process that owned it
    return removed
