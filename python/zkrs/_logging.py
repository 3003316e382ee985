"""Core logs (embedded members and clients) into Python ``logging``, under
loggers named after the Rust module: ``zkrs.server.conn``,
``zkrs.consensus``, ... Started when ``zkrs`` is imported, at INFO;
``zkrs.set_log_level(logging.DEBUG)`` lets more through (configure the
``zkrs`` logger's handlers and level as for any library)."""

import logging
import threading
from typing import Union

from zkrs import _native

_started = False

# The library convention: nothing printed unless the application configures
# logging (without it, Python would print WARNING records to stderr).
logging.getLogger("zkrs").addHandler(logging.NullHandler())


def _native_level(level: Union[int, str]) -> int:
    if isinstance(level, str):
        level = logging.getLevelName(level.upper())
        if not isinstance(level, int):
            raise ValueError("unknown log level")
    if level >= logging.CRITICAL + 10:
        return 0  # off
    if level >= logging.ERROR:
        return 1
    if level >= logging.WARNING:
        return 2
    if level >= logging.INFO:
        return 3
    if level >= logging.DEBUG:
        return 4
    return 5


_PY_LEVEL = {1: logging.ERROR, 2: logging.WARNING, 3: logging.INFO, 4: logging.DEBUG, 5: 5}


def _logger_name(target: str) -> str:
    name = target.replace("::", ".")
    return name if name.startswith("zkrs") else "zkrs." + name


def _pump() -> None:
    while True:
        for level, target, message in _native._log_next(1.0):
            logging.getLogger(_logger_name(target)).log(_PY_LEVEL.get(level, logging.INFO), message)


def start(level: Union[int, str] = logging.INFO) -> None:
    """Routes core logs at ``level`` and above into ``logging`` (idempotent;
    a later call only changes the level)."""
    global _started
    if _started:
        _native._log_level(_native_level(level))
        return
    try:
        _native._log_start(_native_level(level))
    except Exception as e:  # another tracing subscriber owns this process
        logging.getLogger("zkrs").debug("core logs not routed: %s", e)
        return
    _started = True
    threading.Thread(target=_pump, name="zkrs-logs", daemon=True).start()


def set_log_level(level: Union[int, str]) -> None:
    """The most verbose level of core logs passed to ``logging``
    (``logging.DEBUG``, ``"INFO"``, ...; above CRITICAL turns them off)."""
    start(level)
