# SPDX-License-Identifier: BSD-3-Clause
"""Helpers of the control-plane e2e tests: appliances in a temp dir, xferctl, telemetry."""
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time

DPDK_TELEMETRY = "/usr/bin/dpdk-telemetry.py"


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)
    print("ok: " + msg, flush=True)


def skip(msg):
    print("SKIP: " + msg, flush=True)
    sys.exit(77)


def finish(t, apps, ok):
    """The end of a test, passed or not: stop the appliances still running and print
    their logs; remove the temp dir t if the test got to its end (ok), else keep it
    for a look."""
    for app in apps:
        app.stop()
        app.dump_log()
    if ok:
        shutil.rmtree(t, ignore_errors=True)
    else:
        print("kept " + t)


def test_key(t):
    """The test key pair of the appliances in t, made once (as `xferd keygen`: base64 of
    the X25519 private key in a 0600 file): every appliance of a test holds it, so each
    one's peer entry names the same public key. Returns (key file, public key)."""
    import base64
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    path = os.path.join(t, "test.key")
    if not os.path.exists(path):
        raw = X25519PrivateKey.generate().private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
            serialization.NoEncryption())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, base64.b64encode(raw) + b"\n")
        os.close(fd)
    with open(path, "rb") as f:
        priv = X25519PrivateKey.from_private_bytes(base64.b64decode(f.read().strip()))
    pub = priv.public_key().public_bytes(serialization.Encoding.Raw,
                                         serialization.PublicFormat.Raw)
    return path, base64.b64encode(pub).decode()


def config_yaml(t, name, role, ip, peer_name, peer_ip, prefix, extra=None, peers=None):
    """A complete appliance config (no --set: reload re-reads exactly this file). peers:
    (name, ipv4, public key base64) each, in place of the one peer_name at peer_ip with
    the test key; extra["session"]: more keys of the session mapping ("k: v, ...")."""
    e = {"log_level": "notice", "rate_mbit": 0, "mtu": 1500, "session": ""}
    e.update(extra or {})
    key, pub = test_key(t)
    if peers is None:
        peers = [(peer_name, peer_ip, pub)]
    plist = "".join(f'  - {{name: {n}, ipv4: {a}, public_key: "{k}"}}\n' for n, a, k in peers)
    more = ", " + e["session"] if e["session"] else ""
    return f"""version: 1
appliance: {{name: {name}, log_level: {e['log_level']}}}
eal: {{file_prefix: {prefix}, hugepages: false, memory_mb: 512, pci: false}}
cores: {{main: 0, rx: [1], workers: [2], cpus: [0, 1], idle: backoff}}
ports:
  - name: wire0
    device: "net_memif0,role={role},socket={t}/memif.sock"
    ipv4: {ip}/24
    mtu: {e['mtu']}
volumes:
  - {{name: data, path: {t}/{name}, fsync: none}}
peers:
{plist if plist else "  []"}
session: {{rate_mbit: {e['rate_mbit']}, private_key_file: {key}{more}}}
control: {{socket: {t}/{name}.sock, push_roots: ["{t}"]}}
"""


class Appliance:
    def __init__(self, xferd, t, name, cfg_text, prefix, args=()):
        self.t, self.name, self.prefix = t, name, prefix
        self.cfg = os.path.join(t, name + ".yaml")
        self.sock = os.path.join(t, name + ".sock")
        self.log = os.path.join(t, name + ".log")
        os.makedirs(os.path.join(t, name), exist_ok=True)
        self.write_config(cfg_text)
        with open(self.log, "w") as log:
            self.p = subprocess.Popen([xferd, "-c", self.cfg, *args],
                                      stdout=subprocess.PIPE, stderr=log)
        self.wait_ready()

    def write_config(self, text):
        # Replace atomically: a reload never reads a half-written file.
        tmp = self.cfg + ".new"
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, self.cfg)

    def wait_ready(self, timeout=60):
        """Wait for the readiness line on stdout (never sleep to synchronise)."""
        buf = b""
        deadline = time.monotonic() + timeout
        while b"xferd: ready\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                self.dump_log()
                fail(f"{self.name}: no readiness line in {timeout} s")
            r, _, _ = select.select([self.p.stdout], [], [], left)
            if r:
                chunk = os.read(self.p.stdout.fileno(), 4096)
                if not chunk:
                    self.dump_log()
                    fail(f"{self.name}: exited before ready ({self.p.wait()})")
                buf += chunk

    def dump_log(self):
        with open(self.log) as f:
            sys.stdout.write(f"--- {self.name} log ---\n" + f.read()[-4000:])

    def ctl(self, *args, json_out=True):
        cmd = [XFERCTL, "-s", self.sock] + (["--json"] if json_out else []) + list(args)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        out = None
        if json_out and r.stdout.strip():
            try:
                out = json.loads(r.stdout)
            except json.JSONDecodeError:
                out = None
        return r.returncode, out, r.stdout + r.stderr

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        # EAL leaves its runtime directory behind; this prefix was ours alone.
        shutil.rmtree(dpdk_runtime_dir(self.prefix), ignore_errors=True)
        return self.p.returncode


XFERCTL = "xferctl"


def dpdk_runtime_dir(prefix):
    """Where EAL keeps a prefix's runtime files (as EAL and dpdk-telemetry.py find it)."""
    run = os.environ.get("RUNTIME_DIRECTORY")
    if not run:
        run = "/var/run" if os.getuid() == 0 else os.environ.get("XDG_RUNTIME_DIR", "/tmp")
    return os.path.join(run, "dpdk", prefix)


def telemetry(prefix, *cmds):
    """Query DPDK telemetry the way an operator does: dpdk-telemetry.py -f PREFIX, one
    command per stdin line, one JSON reply per stdout line."""
    r = subprocess.run([sys.executable, DPDK_TELEMETRY, "-f", prefix],
                       input="".join(c + "\n" for c in cmds), capture_output=True, text=True,
                       timeout=30)
    if r.returncode != 0:
        fail(f"dpdk-telemetry.py failed: {r.stdout} {r.stderr}")
    lines = [l for l in r.stdout.splitlines() if l.startswith("{")]
    if len(lines) != len(cmds):
        fail(f"telemetry: {len(cmds)} commands, replies: {r.stdout!r} {r.stderr!r}")
    out = []
    for c, l in zip(cmds, lines):
        reply = json.loads(l)
        key = c.split(",")[0]
        if key not in reply:
            fail(f"telemetry {c}: reply without {key}: {l}")
        out.append(reply[key])
    return out


def make_tree(root, nfiles, seed):
    """nfiles files of 0..8 KiB in nested directories, deterministic."""
    import random
    rnd = random.Random(seed)
    for i in range(nfiles):
        d = os.path.join(root, f"d{i % 17}", f"e{i % 5}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"f{i}.bin"), "wb") as f:
            f.write(rnd.randbytes(rnd.randrange(0, 8193)))


def trees_equal(a, b):
    """Byte-identical trees: the same relative paths, the same contents. @return (ok, why)"""
    def walk(root):
        out = {}
        for dp, dns, fns in os.walk(root):
            dns[:] = [d for d in dns if not (dp == root and d == ".xferd")]
            for fn in fns:
                p = os.path.join(dp, fn)
                out[os.path.relpath(p, root)] = p
        return out
    wa, wb = walk(a), walk(b)
    if wa.keys() != wb.keys():
        missing = sorted(wa.keys() - wb.keys())[:5]
        extra = sorted(wb.keys() - wa.keys())[:5]
        return False, f"missing {missing} extra {extra}"
    for rel, p in wa.items():
        with open(p, "rb") as f1, open(wb[rel], "rb") as f2:
            if f1.read() != f2.read():
                return False, f"{rel} differs"
    return True, f"{len(wa)} files identical"
