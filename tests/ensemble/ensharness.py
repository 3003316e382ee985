"""Ensemble harness: N `zkrs server` member processes on distinct loopback
addresses (127.0.0.<base+i>), each with its own dataDir/myid, plus iptables
partitions between members.

Every process is started by us and killed by PID (SIGKILL) at cleanup. Every
wait is bounded. Firewall rules carry the comment `zkrs-test-<pid>` and are
deleted at teardown (and by a session finalizer in conftest.py).

Usable by hand:  python3 tests/ensemble/ensharness.py 3 1 60
(3 participants + 1 observer for 60 s; prints the connect string).
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
COMPAT = os.path.join(os.path.dirname(HERE), "compat")
if COMPAT not in sys.path:
    sys.path.insert(0, COMPAT)

from zkharness import (  # noqa: E402
    CONTAINER_CHECK_MS,
    REPO_ROOT,
    SUPER_PASSWORD,
    SUPER_USER,
    digest,
    four_letter,
)

TICK_TIME = 200
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Repetitive peer-failure warnings left out of log tails shown on failure.
NOISE = ("HeartbeatWorker", "while requesting pre-vote", "ReplicationCore recv RPCError",
         "update progress error")
# Address block: 127.0.0.<BASE>.. (override with ZKRS_ENS_BASE, 2..200).
BASE_IP = int(os.environ.get("ZKRS_ENS_BASE", "11"))
FW_TAG = "zkrs-test-%d" % os.getpid()


def zkrs_bin():
    b = os.environ.get("ZKRS_BIN", os.path.join(REPO_ROOT, "target", "debug", "zkrs"))
    if not os.path.exists(b):
        raise RuntimeError("zkrs binary %s not found (build it or set ZKRS_BIN)" % b)
    return b


def free_ports(ip, n):
    """n distinct free ports on ip: all held open while picked (ports
    picked one at a time can come back equal, as a member's client and
    peer ports once did)."""
    socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(n)]
    try:
        for s in socks:
            s.bind((ip, 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def free_port(ip):
    return free_ports(ip, 1)[0]


def wait_until(pred, timeout, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            v = pred()
        except Exception as e:  # noqa: BLE001 - predicates poll flaky things
            v, last = None, e
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s (last error: %r)"
                                 % (timeout, what, last))
        time.sleep(interval)


class Member:
    def __init__(self, ens, sid, ip, observer=False):
        self.ens = ens
        self.id = sid
        self.ip = ip
        self.observer = observer
        self.client_port, self.peer_port, self.elect_port = free_ports(ip, 3)
        self.dir = os.path.join(ens.workdir, "m%d" % sid)
        self.data_dir = os.path.join(self.dir, "data")
        self.cfg = os.path.join(self.dir, "zoo.cfg")
        self.log_path = os.path.join(self.dir, "server.log")
        os.makedirs(self.data_dir, exist_ok=True)
        with open(os.path.join(self.data_dir, "myid"), "w") as f:
            f.write("%d\n" % sid)
        self.proc = None
        self._log = None
        self.starts = 0
        self.killed = False  # True after kill() (by us), until start()
        # Extra environment for the next start (e.g. libfaketime's, for a
        # member whose wall clock is off).
        self.env = {}
        # zoo.cfg keys of this member only, after the ensemble's.
        self.extra_cfg = {}

    def __repr__(self):
        return "<member %d %s%s>" % (self.id, self.hostport, " observer" if self.observer else "")

    @property
    def hostport(self):
        return "%s:%d" % (self.ip, self.client_port)

    @property
    def server_line(self):
        s = "server.%d=%s:%d:%d" % (self.id, self.ip, self.peer_port, self.elect_port)
        return s + (":observer" if self.observer else "")

    def write_cfg(self):
        lines = [
            "tickTime=%d" % TICK_TIME,
            "initLimit=10",
            "syncLimit=5",
            "dataDir=%s" % self.data_dir,
            "clientPort=%d" % self.client_port,
            "clientPortAddress=%s" % self.ip,
            "4lw.commands.whitelist=*",
            "DigestAuthenticationProvider.superDigest=%s" % digest(SUPER_USER, SUPER_PASSWORD),
            "extendedTypesEnabled=true",
            "znode.container.checkIntervalMs=%d" % CONTAINER_CHECK_MS,
            "admin.enableServer=false",
        ]
        if self.observer:
            lines.append("peerType=observer")
        for k, v in {**self.ens.extra_cfg, **self.extra_cfg}.items():
            lines.append("%s=%s" % (k, v))
        lines += [m.server_line for m in self.ens.members]
        with open(self.cfg, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self):
        assert not self.alive(), "member %d already running" % self.id
        self.write_cfg()
        self._log = open(self.log_path, "ab")
        cmd = [zkrs_bin(), "server", "--config", self.cfg]
        self._log.write(("\n==== start #%d: %s\n" % (self.starts + 1, " ".join(cmd))).encode())
        self._log.flush()
        env = dict(os.environ)
        env.setdefault("RUST_LOG", "info")
        env.update(self.env)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, cwd=self.dir, env=env)
        self.starts += 1
        self.killed = False
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        """SIGKILL our process (by PID) and reap it."""
        self.killed = True
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        if self._log:
            self._log.close()
            self._log = None

    def wait_port_free(self, timeout=10):
        def free():
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((self.ip, self.client_port))
                return True
            except OSError:
                return False
            finally:
                s.close()
        wait_until(free, timeout, 0.1, "port %s free" % self.hostport)

    def restart(self):
        self.kill()
        self.wait_port_free()
        return self.start()

    def pause(self):
        """SIGSTOP our process (a frozen member: sockets open, nothing answered)."""
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self):
        os.kill(self.proc.pid, signal.SIGCONT)

    def fourlw(self, word, timeout=2.0):
        return four_letter(self.ip, self.client_port, word, timeout=timeout)

    def mode(self):
        """'leader'|'follower'|'observer'|'standalone'|..., None when not
        serving (or not answering)."""
        if not self.alive():
            return None
        try:
            ans = self.fourlw("srvr", timeout=1.0)
        except OSError:
            return None
        m = re.search(r"^Mode: (\w+)", ans, re.M)
        return m.group(1) if m else None

    def serving(self):
        return self.mode() in ("leader", "follower", "observer")

    def log_tail(self, n=40):
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()
            lines = [ANSI.sub("", ln) for ln in lines if not any(x in ln for x in NOISE)]
            return "\n".join(lines[-n:])
        except OSError:
            return "(no log)"

    def wipe_data(self):
        """Delete everything in dataDir except myid (member must be down)."""
        assert not self.alive()
        for name in os.listdir(self.data_dir):
            if name == "myid":
                continue
            p = os.path.join(self.data_dir, name)
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p)
            else:
                os.unlink(p)

    def snapshot_files(self):
        d = os.path.join(self.data_dir, "zkrs", "snapshots")
        try:
            return sorted(f for f in os.listdir(d) if not f.startswith("."))
        except OSError:
            return []


class Ensemble:
    def __init__(self, participants=3, observers=0, extra_cfg=None, base_ip=None, workdir=None):
        base = BASE_IP if base_ip is None else base_ip
        assert 2 <= base and base + participants + observers <= 254
        self._own_workdir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix="zkens-")
        self.extra_cfg = dict(extra_cfg or {})
        self.members = []
        for i in range(participants + observers):
            self.members.append(Member(self, i + 1, "127.0.0.%d" % (base + i),
                                       observer=i >= participants))
        self.fw = Firewall()

    def __repr__(self):
        return "<ensemble %s>" % self.members

    def member(self, sid):
        return self.members[sid - 1]

    @property
    def participants(self):
        return [m for m in self.members if not m.observer]

    @property
    def observers(self):
        return [m for m in self.members if m.observer]

    def connect_string(self, members=None):
        return ",".join(m.hostport for m in (members or self.members))

    def start(self, timeout=30, restart_crashed=True):
        """Start every member at once and wait until the ensemble serves.

        zkrs bug before main 176eaef (see test_startup.py): a member that receives a vote
        request before its own raft initialize() exits with "raft init: not
        allowed to initialize". With restart_crashed, such a member is
        started again (at most twice) so that the other tests do not
        inherit that race; the crashes are kept in self.startup_crashes."""
        self.startup_crashes = []
        for m in self.members:
            m.start()
        deadline = time.monotonic() + timeout
        for _ in range(3):
            try:
                self.wait_serving(max(1.0, deadline - time.monotonic()))
                return self
            except AssertionError:
                crashed = [m for m in self.members if not m.killed and not m.alive()]
                if not restart_crashed or not crashed or time.monotonic() > deadline:
                    raise
                for m in crashed:
                    tail = m.log_tail(5)
                    self.startup_crashes.append((m.id, m.proc.returncode, tail))
                    print("harness: member %d exited during startup (%s); restarting it:\n%s"
                          % (m.id, m.proc.returncode, tail))
                    m.restart()
        self.wait_serving(max(1.0, deadline - time.monotonic()))
        return self

    def modes(self):
        return {m.id: m.mode() for m in self.members}

    def wait_serving(self, timeout=30, members=None):
        """Until exactly one leader and every given (default: live) member serves."""
        dead = []

        def ok():
            for m in self.members:
                if m.proc is not None and not m.killed and not m.alive():
                    dead.append(m)
                    return True
            ms = members or [m for m in self.members if m.alive()]
            modes = [m.mode() for m in ms]
            return all(modes) and list(self.modes().values()).count("leader") == 1
        try:
            wait_until(ok, timeout, 0.1, "ensemble serving")
            if dead:
                raise AssertionError("member %d exited (%s)" % (dead[0].id, dead[0].proc.returncode))
        except AssertionError:
            raise AssertionError("ensemble not serving in %ss: modes %s\n%s"
                                 % (timeout, self.modes(), self.logs_tail()))

    def leader(self, timeout=20, exclude=()):
        """The member that says `Mode: leader` (waits for one)."""
        def find():
            ls = [m for m in self.members if m not in exclude and m.mode() == "leader"]
            return ls[0] if len(ls) == 1 else None
        try:
            return wait_until(find, timeout, 0.05, "a leader")
        except AssertionError:
            raise AssertionError("no leader in %ss: modes %s\n%s"
                                 % (timeout, self.modes(), self.logs_tail()))

    def followers(self, timeout=20, at_least=1):
        """Members saying `Mode: follower` (waits until there are at_least)."""
        def find():
            fs = [m for m in self.members if m.mode() == "follower"]
            return fs if len(fs) >= at_least else None
        return wait_until(find, timeout, 0.05, "%d follower(s): %s" % (at_least, self.modes()))

    def logs_tail(self, n=15):
        return "\n".join("--- member %d log tail:\n%s" % (m.id, m.log_tail(n)) for m in self.members)

    def isolate(self, m):
        for o in self.members:
            if o is not m:
                self.fw.cut(m.ip, o.ip)

    def heal(self):
        self.fw.clear()

    def cleanup(self):
        try:
            self.fw.clear()
        finally:
            for m in self.members:
                m.kill()
            if self._own_workdir and not os.environ.get("ZK_KEEP_WORKDIR"):
                shutil.rmtree(self.workdir, ignore_errors=True)


# ---- iptables ----------------------------------------------------------------

LOOPBACK = re.compile(r"^127\.0\.0\.\d{1,3}$")


def iptables(*args, check=True):
    return subprocess.run(["iptables", "-w", "5"] + list(args), capture_output=True, text=True,
                          timeout=20, check=check)


def ensure_iptables():
    """iptables present (apt-get install if missing) and usable; returns an
    error string or None."""
    if shutil.which("iptables") is None:
        try:
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
            subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "iptables"],
                           capture_output=True, timeout=300, env=env)
        except Exception as e:  # noqa: BLE001
            return "cannot install iptables: %s" % e
        if shutil.which("iptables") is None:
            return "iptables not installed"
    r = iptables("-S", "INPUT", check=False)
    if r.returncode != 0:
        return "iptables unusable: %s" % r.stderr.strip()
    return None


def delete_tagged_rules(tag=FW_TAG):
    """Delete every INPUT rule carrying our comment tag. Returns how many."""
    n = 0
    for _ in range(200):  # bounded
        r = iptables("-S", "INPUT", check=False)
        if r.returncode != 0:
            return n
        rules = [ln for ln in r.stdout.splitlines() if ln.startswith("-A INPUT") and tag in ln]
        if not rules:
            return n
        for ln in rules:
            spec = ln.split()[2:]  # after "-A INPUT"
            # the comment arrives quoted when it contains spaces; ours has none
            iptables("-D", "INPUT", *spec, check=False)
            n += 1
    return n


class Firewall:
    """DROP rules between pairs of 127.0.0.x addresses, tagged with FW_TAG."""

    def __init__(self):
        self.rules = []

    def _rule(self, src, dst):
        assert LOOPBACK.match(src) and LOOPBACK.match(dst), (src, dst)
        return ["-s", src, "-d", dst, "-m", "comment", "--comment", FW_TAG, "-j", "DROP"]

    def cut(self, a, b):
        for src, dst in ((a, b), (b, a)):
            r = self._rule(src, dst)
            iptables("-I", "INPUT", *r)
            self.rules.append(r)

    def clear(self):
        while self.rules:
            r = self.rules.pop()
            iptables("-D", "INPUT", *r, check=False)


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    obs = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    secs = float(sys.argv[3]) if len(sys.argv) > 3 else 120
    ens = Ensemble(n, obs)
    try:
        ens.start()
        print(ens.connect_string(), ens.modes(), ens.workdir, flush=True)
        time.sleep(secs)
    finally:
        ens.cleanup()
