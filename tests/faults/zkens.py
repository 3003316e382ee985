"""A 3-member Apache ZooKeeper 3.8 ensemble (Debian's `zookeeper` package)
with the same interface as tests/ensemble/ensharness.py's Ensemble: each
member is `java ... QuorumPeerMain zoo.cfg` with its own dataDir/myid on
127.0.0.<base+i>, the same zoo.cfg values (tickTime, initLimit, syncLimit)
as the zkrs members, and mode detection through `srvr`.

Every process is started by us and SIGKILLed by PID at cleanup."""

import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
for p in (os.path.join(TESTS, "ensemble"), os.path.join(TESTS, "compat")):
    if p not in sys.path:
        sys.path.insert(0, p)

import ensharness  # noqa: E402
import zkharness  # noqa: E402


SHIM_SRC = os.path.join(HERE, "bindsrc.c")


def build_shim(workdir):
    """Compile bindsrc.c (the source-address LD_PRELOAD shim) into workdir."""
    out = os.path.join(workdir, "bindsrc.so")
    if not os.path.exists(out):
        subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-o", out, SHIM_SRC, "-ldl"],
                       check=True, capture_output=True, timeout=60)
    return out


class ZkMember(ensharness.Member):
    """An Apache ZooKeeper participant; reuses Member's kill/restart/mode."""

    def write_cfg(self):
        lines = [
            "tickTime=%d" % ensharness.TICK_TIME,
            "initLimit=10",
            "syncLimit=5",
            "dataDir=%s" % self.data_dir,
            "clientPort=%d" % self.client_port,
            "clientPortAddress=%s" % self.ip,
            "4lw.commands.whitelist=*",
            "admin.enableServer=false",
            # the other lines of ensharness's zoo.cfg, for identical configs
            "DigestAuthenticationProvider.superDigest=%s" % zkharness.digest(
                zkharness.SUPER_USER, zkharness.SUPER_PASSWORD),
            "extendedTypesEnabled=true",
            "znode.container.checkIntervalMs=%d" % zkharness.CONTAINER_CHECK_MS,
        ]
        for k, v in self.ens.extra_cfg.items():
            lines.append("%s=%s" % (k, v))
        lines += [m.server_line for m in self.ens.members]
        with open(self.cfg, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self):
        assert not self.alive(), "member %d already running" % self.id
        self.write_cfg()
        self._log = open(self.log_path, "ab")
        cmd = zkharness.java_base_cmd(self.dir, self.ens.jvm_flags) + [
            "-Dzookeeper.jmx.log4j.disable=true",
            "org.apache.zookeeper.server.quorum.QuorumPeerMain", self.cfg]
        self._log.write(("\n==== start #%d: %s\n" % (self.starts + 1, " ".join(cmd))).encode())
        self._log.flush()
        env = dict(os.environ, LD_PRELOAD=self.ens.shim, ZKFAULT_BIND_IP=self.ip)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, cwd=self.dir, env=env)
        self.starts += 1
        self.killed = False
        return self


class ZkEnsemble(ensharness.Ensemble):
    """`participants` Apache ZooKeeper members on 127.0.0.<base_ip>..."""

    def __init__(self, participants=3, extra_cfg=None, base_ip=51, workdir=None, jvm_flags=None):
        assert 2 <= base_ip and base_ip + participants <= 254
        self.jvm_flags = jvm_flags  # None: zkharness's test flags
        self._own_workdir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix="zkfault-apache-")
        self.extra_cfg = dict(extra_cfg or {})
        self.members = [ZkMember(self, i + 1, "127.0.0.%d" % (base_ip + i))
                        for i in range(participants)]
        self.fw = ensharness.Firewall()
        self.shim = build_shim(self.workdir)

    def __repr__(self):
        return "<apache ensemble %s>" % self.members

    def start(self, timeout=60, restart_crashed=False):
        return super().start(timeout=timeout, restart_crashed=False)

    def cleanup(self):
        try:
            self.fw.clear()
        finally:
            for m in self.members:
                m.kill()
            if self._own_workdir and not os.environ.get("ZK_KEEP_WORKDIR"):
                shutil.rmtree(self.workdir, ignore_errors=True)


if __name__ == "__main__":
    import time
    ens = ZkEnsemble()
    try:
        t0 = time.monotonic()
        ens.start()
        print(ens.connect_string(), ens.modes(), "%.1fs" % (time.monotonic() - t0), ens.workdir, flush=True)
        time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 60)
    finally:
        ens.cleanup()
