"""A pytest plugin that runs kazoo 2.11's own test suite, with kazoo's own
KazooClient, against real server processes: zkrs members or Apache
ZooKeeper, as `KAZOO_SERVER` says.

kazoo's harness (`kazoo.testing.harness.get_global_cluster`) builds a
`ZookeeperCluster` from the ZOOKEEPER_* environment variables; the cluster
makes one `ManagedZooKeeper` per member, and tests call `cluster[i].stop()`,
`.run()`, `cluster.terminate()`, `.address`, `.client_port`. This plugin
swaps the member class the cluster makes (`kazoo.testing.common.
ManagedZooKeeper`), keeping kazoo's cluster: its ports, peers and certificates.

- `KAZOO_SERVER=zkrs`: `ZkrsMember` writes the zoo.cfg kazoo's
  `ManagedZooKeeper.run` writes (same keys, server.N lines, dataDir/myid
  layout and ports), then the Java system properties kazoo passes that
  ZooKeeper also reads as zoo.cfg keys (`zookeeper.<key>` is `<key>` in
  zoo.cfg; `readonlymode.enabled` is a zoo.cfg key in zkrs), and runs
  `$ZKRS_BIN server --config <zoo.cfg>`.
- `KAZOO_SERVER=zookeeper`: kazoo's own `ManagedZooKeeper` runs Java
  ZooKeeper from ZOOKEEPER_CLASSPATH; `BoundedZooKeeper` only bounds its
  stop and records its PID.

Either way a member stops with SIGTERM, then SIGKILL after STOP_GRACE
seconds, by its PID; members still running at the end of the session are
stopped there, and every PID goes to $KAZOO_SUITE_PIDFILE (if set) so the
calling script can sweep what a killed session left. Member logs are kept in
$KAZOO_SUITE_LOGDIR (if set), one file per member, with a line marking the
start of each test.

Use: `python -m pytest -p kazoo_zkrs_servers --pyargs kazoo.tests` with this
folder on PYTHONPATH (scripts/kazoo-suite.sh sets everything up).
"""

import datetime
import logging
import os
import shutil
import signal
import subprocess
from itertools import chain

import kazoo.testing.common as common

log = logging.getLogger(__name__)

SERVER = os.environ.get("KAZOO_SERVER", "zkrs")
if SERVER not in ("zkrs", "zookeeper"):
    raise ValueError("KAZOO_SERVER must be 'zkrs' or 'zookeeper', not %r" % SERVER)

STOP_GRACE = float(os.environ.get("KAZOO_STOP_GRACE", "15"))
LOG_DIR = os.environ.get("KAZOO_SUITE_LOGDIR")
PID_FILE = os.environ.get("KAZOO_SUITE_PIDFILE")

# Every member made this session, for the final sweep.
_MEMBERS = []
_current_test = "(setup)"


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")


def _record_pid(pid):
    if PID_FILE:
        with open(PID_FILE, "a") as f:
            f.write("%d\n" % pid)


def _stop_process(proc, what):
    """SIGTERM, then SIGKILL after STOP_GRACE seconds; reaps `proc`."""
    if proc.poll() is None:
        try:
            os.kill(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            log.warning("%s (pid %d) ignored SIGTERM for %ss: SIGKILL", what, proc.pid, STOP_GRACE)
            try:
                os.kill(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=30)
    elif proc.returncode != 0:
        log.warning("%s (pid %d) had already exited with %s", what, proc.pid, proc.returncode)


def _member_log_path(member):
    name = "%s-member%d-port%d.log" % (SERVER, member.server_info.server_id, member.client_port)
    if LOG_DIR:
        return os.path.join(LOG_DIR, name)
    return os.path.join(member.working_path, name)


def _mark(path, text):
    with open(path, "a") as f:
        f.write("==== %s %s\n" % (_now(), text))


class ZkrsMember(common.ManagedZooKeeper):
    """A zkrs member process in place of kazoo's Java ZooKeeper."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.process = None
        self.log_path = _member_log_path(self)
        self._starts = 0
        _MEMBERS.append(self)

    def zoo_cfg(self, data_path, keystore_path, truststore_path):
        """kazoo 2.11's zoo.cfg (testing/common.py, ManagedZooKeeper.run)
        line for line, then the server-side Java system properties."""
        text = """
tickTime=2000
dataDir=%s
clientPort=%s
secureClientPort=%s
maxClientCnxns=0
admin.serverPort=%s
serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory
authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider
ssl.keyStore.location=%s
ssl.keyStore.password=apassword
ssl.trustStore.location=%s
ssl.trustStore.password=apassword
%s
""" % (
            data_path,
            self.server_info.client_port,
            self.server_info.secure_client_port,
            self.server_info.admin_port,
            keystore_path,
            truststore_path,
            "\n".join(self.configuration_entries),
        )
        if self.peers:
            servers_cfg = [
                "server.%s=localhost:%s:%s:%s"
                % (p.server_id, p.leader_port, p.election_port, p.peer_type)
                for p in chain((self.server_info,), self.peers)
            ]
            text += """
initLimit=4
syncLimit=2
%s
peerType=%s
""" % (
                "\n".join(servers_cfg),
                self.server_info.peer_type,
            )
        props = self.zoo_cfg_properties()
        if self.jaas_config:
            # kazoo gives ZooKeeper the JAAS file as a JVM flag; zkrs reads
            # the same key from zoo.cfg.
            jaas_path = os.path.join(self.working_path, "jaas.conf")
            with open(jaas_path, "w") as f:
                f.write(self.jaas_config)
            props.append("java.security.auth.login.config=%s" % jaas_path)
        if props:
            text += "# kazoo passes these to ZooKeeper as Java system properties\n"
            text += "\n".join(props) + "\n"
        return text

    def zoo_cfg_properties(self):
        """The -D properties kazoo gives the JVM that configure the server,
        as zoo.cfg lines: `-Dreadonlymode.enabled=true` (always, in kazoo's
        run) and `-Dzookeeper.<key>=v` (the harness's super digest), which
        ZooKeeper equally reads from zoo.cfg as `<key>=v`. The rest (JAAS,
        Kerberos, logging, encoding) only concern the JVM."""
        lines = ["readonlymode.enabled=true"]
        for prop in self.java_system_properties:
            key, _, value = prop[len("-D"):].partition("=")
            if key.startswith("zookeeper."):
                lines.append("%s=%s" % (key[len("zookeeper."):], value))
            else:
                log.info("zkrs: JVM-only property %s not passed on", prop)
        return lines

    def run(self):
        if self.running:
            return
        zkrs_bin = os.environ["ZKRS_BIN"]
        config_path = os.path.join(self.working_path, "zoo.cfg")
        log_path = os.path.join(self.working_path, "log")
        data_path = os.path.join(self.working_path, "data")
        truststore_path = os.path.join(self.working_path, "truststore.jks")
        keystore_path = os.path.join(self.working_path, "keystore.jks")
        for d in (self.working_path, log_path, data_path):
            os.makedirs(d, exist_ok=True)
        # The stores kazoo's zoo.cfg names for secureClientPort.
        self.ssl_configuration["truststore"].save(truststore_path, "apassword")
        self.ssl_configuration["keystore"].save(keystore_path, "apassword")
        with open(config_path, "w") as f:
            f.write(self.zoo_cfg(data_path, keystore_path, truststore_path))
        with open(os.path.join(data_path, "myid"), "w") as f:
            f.write(str(self.server_info.server_id))

        args = [zkrs_bin, "server", "--config", config_path]
        self._starts += 1
        _mark(self.log_path, "start #%d during %s: %s" % (self._starts, _current_test, " ".join(args)))
        with open(self.log_path, "ab") as out:
            self.process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.working_path,
                env=dict(os.environ, NO_COLOR="1"),
            )
        _record_pid(self.process.pid)
        log.info("Started zkrs %s on port %s", self.process.pid, self.client_port)
        self._running = True

    def stop(self):
        if not self.running:
            return
        _mark(self.log_path, "stop (SIGTERM) during %s" % _current_test)
        _stop_process(self.process, "zkrs member %d" % self.server_info.server_id)
        _mark(self.log_path, "stopped: exit status %s" % self.process.returncode)
        self._running = False

    def get_logs(self, num_lines=100):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.readlines()[-num_lines:]
        except OSError:
            return []


class BoundedZooKeeper(common.ManagedZooKeeper):
    """kazoo's own ManagedZooKeeper (Java), with a bounded stop, its PID
    recorded and its log kept."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.process = None
        _MEMBERS.append(self)

    def run(self):
        if self.running:
            return
        super().run()
        _record_pid(self.process.pid)

    def stop(self):
        if not self.running:
            return
        _stop_process(self.process, "ZooKeeper member %d" % self.server_info.server_id)
        self._running = False

    def destroy(self):
        self.stop()
        src = os.path.join(self.working_path, "zookeeper.log")
        if LOG_DIR and os.path.exists(src):
            dst = _member_log_path(self)
            _mark(dst, "log of one run, ended during %s" % _current_test)
            with open(src, "rb") as fin, open(dst, "ab") as fout:
                shutil.copyfileobj(fin, fout)
        shutil.rmtree(self.working_path, True)


common.ManagedZooKeeper = ZkrsMember if SERVER == "zkrs" else BoundedZooKeeper


def _on_sigterm(signum, frame):
    # An overall `timeout` sends SIGTERM (to pytest, then to its process
    # group): unwind once, so pytest reports what ran and pytest_unconfigure
    # stops the members; `timeout -k` SIGKILLs whatever still hangs.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt("SIGTERM")


def pytest_configure(config):
    if SERVER == "zkrs" and not os.path.exists(os.environ.get("ZKRS_BIN", "")):
        raise RuntimeError("KAZOO_SERVER=zkrs needs ZKRS_BIN (the zkrs binary)")
    signal.signal(signal.SIGTERM, _on_sigterm)


def pytest_report_header(config):
    where = os.environ.get("ZKRS_BIN") if SERVER == "zkrs" else os.environ.get("ZOOKEEPER_CLASSPATH")
    return "kazoo servers: %s (%s), cluster size %s" % (
        SERVER,
        where,
        os.environ.get("ZOOKEEPER_CLUSTER_SIZE", "3"),
    )


def pytest_runtest_logstart(nodeid, location):
    global _current_test
    _current_test = nodeid
    if SERVER == "zkrs":
        for m in _MEMBERS:
            if m.running:
                _mark(m.log_path, "test %s" % nodeid)


def pytest_unconfigure(config):
    for m in _MEMBERS:
        try:
            m.destroy()
        except Exception:  # noqa: BLE001 - stop every member regardless
            log.exception("stopping member %s", m.server_info.server_id)
