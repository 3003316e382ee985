"""Analytics jobs fork: a forked child builds a new client (on a runtime
rebuilt for it) and uses it; the parent's client keeps working."""

import os
import time

import pytest

import zkrs


def run_in_child(fn, timeout=30.0):
    pid = os.fork()
    if pid == 0:  # child: never return into pytest
        code = 99
        try:
            code = fn()
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            os._exit(code)
    deadline = time.time() + timeout
    while time.time() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    pytest.fail("forked child hung")


def test_forked_child_uses_a_new_client(member, zk, root):
    zk.create(root + "/from-parent", b"p")

    def child():
        # the parent's session belongs to the parent
        try:
            zk.get(root)
            return 3
        except zkrs.SessionExpiredError:
            pass
        failed = zk.get_async(root)  # fails at once, never hangs
        if not failed.ready() or not isinstance(failed.exception, zkrs.SessionExpiredError):
            return 5
        with zkrs.Client(member.connect_string) as c:
            data, _ = c.get(root + "/from-parent")
            c.create(root + "/from-child", data + b"c")
            if c.get(root + "/from-child")[0] != b"pc":
                return 6
            got = []
            c.get(root + "/from-child", watch=got.append)
            c.set(root + "/from-child", b"changed")
            for _ in range(100):
                if got:
                    break
                time.sleep(0.05)
            return 0 if got and got[0].type == "CHANGED" else 4

    assert run_in_child(child) == 0
    assert zk.get(root + "/from-child")[0] == b"changed"
    zk.set(root + "/from-parent", b"parent still works")


def test_forked_child_can_start_a_member():
    def child():
        with zkrs.Member() as m, zkrs.Client(m.connect_string) as c:
            c.create("/in-child")
            return 0 if c.exists("/in-child") else 5

    assert run_in_child(child) == 0
