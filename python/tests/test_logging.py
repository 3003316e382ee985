"""Core logs of an embedded member and client reach Python logging."""

import logging
import time

import zkrs


class Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


def wait_for(handler, pred, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [r for r in handler.records if pred(r)]
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError("no such log record; got %s"
                         % [(r.name, r.getMessage()) for r in handler.records[-20:]])


def test_member_logs_reach_python_logging():
    handler = Collect()
    root = logging.getLogger("zkrs")
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        zkrs.set_log_level(logging.INFO)
        with zkrs.Member() as m:
            found = wait_for(handler, lambda r: "serving clients on" in r.getMessage())
            assert found[0].name.startswith("zkrs.server"), found[0].name
            assert found[0].levelno == logging.INFO
            assert m.connect_string.split(":")[-1] in found[0].getMessage()
        # Below the level: nothing at DEBUG unless asked for.
        assert not [r for r in handler.records if r.levelno < logging.INFO]
        zkrs.set_log_level("DEBUG")
        with zkrs.Member():
            wait_for(handler, lambda r: r.levelno == logging.DEBUG)
    finally:
        zkrs.set_log_level(logging.INFO)
        root.removeHandler(handler)
