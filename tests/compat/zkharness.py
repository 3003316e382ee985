"""Server-process management for the zkrs compatibility suite.

Starts either Apache ZooKeeper (Debian's `zookeeper` package) or zkrs as a
child process on a free loopback port with a generated zoo.cfg, waits until
`ruok` answers `imok`, and kills it (by PID, SIGKILL) when done.

Usable without pytest:  python3 tests/compat/zkharness.py  (starts a server,
prints host:port, waits for Enter / 120 s, kills it).
"""

import base64
import glob
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

HOST = "127.0.0.1"
TICK_TIME = 200
CONTAINER_CHECK_MS = 500
SUPER_USER = "super"
SUPER_PASSWORD = "test"
JAVA_DIR = "/usr/share/java"

# Debian's zookeeper.jar manifest lists most of its dependencies but misses
# these; without them the server (netty) and logging do not load.
EXTRA_JARS = [
    "netty-codec.jar",
    "netty-resolver.jar",
    "netty-transport-native-unix-common.jar",
    "slf4j-log4j12.jar",
    "log4j-1.2.jar",
    # the AdminServer's Jetty needs the servlet API (libservlet-api-java)
    "servlet-api.jar",
]

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def server_kind():
    kind = os.environ.get("ZK_SERVER", "zkrs")
    if kind not in ("apache", "zkrs"):
        raise ValueError("ZK_SERVER must be 'apache' or 'zkrs', not %r" % kind)
    return kind


def java_classpath():
    jars = [os.path.join(JAVA_DIR, "zookeeper.jar")]
    jars += [os.path.join(JAVA_DIR, j) for j in EXTRA_JARS]
    missing = [j for j in jars if not os.path.exists(j)]
    if missing:
        raise RuntimeError("missing jars %s: run scripts/install-test-deps.sh" % missing)
    return ":".join(jars)


# Small and quick to start, for tests. Benchmarks pass flags=[] (the JVM's
# defaults, as Debian's zkServer.sh runs ZooKeeper).
TEST_JVM_FLAGS = ["-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"]


def java_base_cmd(log_dir, flags=None):
    """java + flags + classpath, ready for a main class name."""
    log4j = os.path.join(log_dir, "log4j.properties")
    if not os.path.exists(log4j):
        with open(log4j, "w") as f:
            f.write(
                "log4j.rootLogger=WARN, CONSOLE\n"
                "log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender\n"
                "log4j.appender.CONSOLE.Target=System.err\n"
                "log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout\n"
                "log4j.appender.CONSOLE.layout.ConversionPattern="
                "%d{ISO8601} [%t] %-5p %c{1} - %m%n\n"
            )
    return [
        "java",
        *(TEST_JVM_FLAGS if flags is None else flags),
        "-Dlog4j.configuration=file:" + log4j,
        "-cp",
        java_classpath(),
    ]


def digest(user, password):
    """ZooKeeper digest: user:base64(sha1(user:password))."""
    h = hashlib.sha1(("%s:%s" % (user, password)).encode()).digest()
    return "%s:%s" % (user, base64.b64encode(h).decode())


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((HOST, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def write_cfg(path, data_dir, port, whitelist="*"):
    lines = [
        "tickTime=%d" % TICK_TIME,
        "dataDir=%s" % data_dir,
        "clientPort=%d" % port,
        "clientPortAddress=%s" % HOST,
        "4lw.commands.whitelist=%s" % whitelist,
        "DigestAuthenticationProvider.superDigest=%s" % digest(SUPER_USER, SUPER_PASSWORD),
        "extendedTypesEnabled=true",
        "znode.container.checkIntervalMs=%d" % CONTAINER_CHECK_MS,
        "admin.enableServer=false",
    ]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def four_letter(host, port, word, timeout=5.0):
    """Send a four-letter word on a fresh connection, return the whole answer
    (read until the server closes, bounded by `timeout`)."""
    deadline = time.monotonic() + timeout
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(word.encode())
        chunks = []
        while time.monotonic() < deadline:
            s.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                b = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not b:
                break
            chunks.append(b)
        return b"".join(chunks).decode(errors="replace")


class ZkServer:
    """One server process (apache or zkrs) with its own dir, cfg and port."""

    def __init__(self, kind=None, whitelist="*", workdir=None):
        self.kind = kind or server_kind()
        self.host = HOST
        self.port = free_port()
        self._own_workdir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix="zkcompat-")
        self.data_dir = os.path.join(self.workdir, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        self.cfg = os.path.join(self.workdir, "zoo.cfg")
        self.log_path = os.path.join(self.workdir, "server.log")
        write_cfg(self.cfg, self.data_dir, self.port, whitelist)
        self.proc = None
        self._log = None
        self.starts = 0

    @property
    def hostport(self):
        return "%s:%d" % (self.host, self.port)

    def command(self):
        if self.kind == "apache":
            # zoo.cfg turns unknown keys into "zookeeper.<key>" system
            # properties, but ZooKeeperServerMain reads the container
            # manager's interval from the unprefixed property, so the
            # zoo.cfg line alone leaves Apache ZooKeeper at its 60 s default.
            return java_base_cmd(self.workdir) + [
                "-Dznode.container.checkIntervalMs=%d" % CONTAINER_CHECK_MS,
                "org.apache.zookeeper.server.ZooKeeperServerMain",
                self.cfg,
            ]
        zkrs_bin = os.environ.get("ZKRS_BIN", os.path.join(REPO_ROOT, "target", "debug", "zkrs"))
        if not os.path.exists(zkrs_bin):
            raise RuntimeError("zkrs binary %s not found (build it or set ZKRS_BIN)" % zkrs_bin)
        return [zkrs_bin, "server", "--config", self.cfg]

    def start(self, timeout=30.0):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self._log = open(self.log_path, "ab")
        self._log.write(("\n==== start #%d: %s\n" % (self.starts + 1, " ".join(self.command()))).encode())
        self._log.flush()
        self.proc = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
        )
        self.starts += 1
        self.wait_ready(timeout)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, timeout=30.0):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    "server exited with %s during startup; log:\n%s"
                    % (self.proc.returncode, self.log_tail())
                )
            try:
                ans = four_letter(self.host, self.port, "ruok", timeout=1.0)
                if ans == "imok":
                    # Apache ZooKeeper answers imok before it serves
                    # requests; srvr says so until it does.
                    srvr = four_letter(self.host, self.port, "srvr", timeout=1.0)
                    if "not currently serving" not in srvr:
                        return
                    ans = srvr
                last = ans
            except OSError as e:
                last = e
            time.sleep(0.1)
        self.kill()
        raise RuntimeError("server not ready in %ss (last: %r); log:\n%s" % (timeout, last, self.log_tail()))

    def kill(self):
        """SIGKILL the process we started (by PID) and reap it."""
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

    def restart(self, timeout=30.0):
        """kill -9, then start again on the same data dir and port."""
        self.kill()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # port must be free again
            try:
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind((self.host, self.port))
                s.close()
                break
            except OSError:
                time.sleep(0.1)
        return self.start(timeout)

    def log_tail(self, n=60):
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()
            return "\n".join(lines[-n:])
        except OSError:
            return "(no log)"

    def cleanup(self):
        self.kill()
        if self._own_workdir and not os.environ.get("ZK_KEEP_WORKDIR"):
            shutil.rmtree(self.workdir, ignore_errors=True)


if __name__ == "__main__":
    import sys

    srv = ZkServer()
    try:
        srv.start()
        print(srv.hostport, srv.workdir, flush=True)
        wait = float(sys.argv[1]) if len(sys.argv) > 1 else 120
        time.sleep(wait)
    finally:
        srv.cleanup()
