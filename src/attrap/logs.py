"""Logging of the one-shot commands (``attrap run``): one line per problem on screen, the
details (tracebacks) in a log file, or on screen too with ``--verbose``.

Processing runs in worker processes, which do not inherit the parent's handlers: the parent's
``LogSetup`` travels to them and ``apply`` installs the same handlers there.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

SCREEN_FORMAT = "%(levelname)s %(name)s: %(message)s"
FILE_FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"


class OneLine(logging.Formatter):
    """A record as one line: no traceback, and line breaks of the message folded."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{record.levelname} {record.name}: {record.getMessage()}"
        return " ⏎ ".join(part.strip() for part in line.splitlines() if part.strip())


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is now (a test runner swaps it per command)."""

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


@dataclass(frozen=True)
class LogSetup:
    verbose: bool = False
    log_file: Path | None = None


_current: LogSetup | None = None
# The handlers ``apply`` installed, replaced by the next call; others (pytest's) are left alone.
_installed: list[logging.Handler] = []


def current() -> LogSetup | None:
    """The setup of this process, for its worker processes; None when logging is left alone."""
    return _current


def remove() -> None:
    """Take the handlers ``apply`` installed away (a command run inside a longer process)."""
    global _current
    _current = None
    root = logging.getLogger()
    for handler in _installed:
        root.removeHandler(handler)
        handler.close()
    _installed.clear()


def apply(setup: LogSetup | None) -> None:
    global _current
    if setup is None:
        return
    remove()
    _current = setup
    root = logging.getLogger()
    screen = _Stderr()
    if setup.verbose:
        screen.setLevel(logging.DEBUG)
        screen.setFormatter(logging.Formatter(SCREEN_FORMAT))
    else:
        screen.setLevel(logging.WARNING)
        screen.setFormatter(OneLine())
    root.addHandler(screen)
    _installed.append(screen)
    if setup.log_file is not None:
        setup.log_file.parent.mkdir(parents=True, exist_ok=True)
        file = logging.FileHandler(setup.log_file, encoding="utf-8")
        file.setLevel(logging.DEBUG if setup.verbose else logging.INFO)
        file.setFormatter(logging.Formatter(FILE_FORMAT))
        root.addHandler(file)
        _installed.append(file)
    root.setLevel(logging.DEBUG if setup.verbose else logging.INFO)
    # A line per HTTP request would drown the events.
    logging.getLogger("httpx").setLevel(logging.WARNING)
