#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A reload adds, re-keys and removes peers without a restart (docs/CONTROL.md "Reload",
docs/SECURITY.md 6). Two appliances over net_memif, both holding the test key:
  1. B does not list A: A's push is not answered (B: hello_not_allowed);
  2. B is reloaded with A added: the next push completes, identical;
  3. while A pushes a paced tree, B is reloaded with A's key changed to one A does not
     hold: B ends the session at once (an ABORT saying why), A's job fails saying the
     peer was re-keyed by a reload, B counts it (security.peer_sessions_ended), and a new
     push from A is refused in the handshake (B: hs_no_key);
  4. B is reloaded with A's right key back: a push completes again;
  5. while A pushes, A is reloaded with B removed: the job ends with that reason, and a
     push to B is refused at once ("no peer");
  6. A is reloaded with B back: a push completes. No appliance restarted.

usage: reload_peers_test.py XFERD XFERCTL"""
import base64
import hashlib
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import xfe2e  # noqa: E402
from xfe2e import check, fail  # noqa: E402


def main():
    xferd, xfe2e.XFERCTL = sys.argv[1], sys.argv[2]
    t = tempfile.mkdtemp(prefix="xf-reload-peers-")
    tag = f"p{os.getpid()}"
    _, pub = xfe2e.test_key(t)
    other = base64.b64encode(os.urandom(32)).decode()  # a key nobody here holds
    ip_a, ip_b = "10.99.1.1", "10.99.1.2"
    # Short timeouts: a push nobody answers fails in 3 s.
    quick = {"log_level": "info", "session": "timeout_ms: 3000, keepalive_ms: 500"}
    cfg_a = lambda peers, rate=0: xfe2e.config_yaml(t, "a", "server", ip_a, None, None, tag + "a",
                                                    {**quick, "rate_mbit": rate}, peers)
    cfg_b = lambda peers: xfe2e.config_yaml(t, "b", "client", ip_b, None, None, tag + "b", quick,
                                            peers)
    b_peer = ("b", ip_b, pub)
    apps = []
    ok = False
    try:
        a = xfe2e.Appliance(xferd, t, "a", cfg_a([b_peer], 16), tag + "a")
        apps.append(a)
        b = xfe2e.Appliance(xferd, t, "b", cfg_b([("z", "10.99.1.9", pub)]), tag + "b")
        apps.append(b)
        small = os.path.join(t, "small")
        xfe2e.make_tree(small, 20, 1)
        big = os.path.join(t, "big")
        xfe2e.make_tree(big, 2500, 2)

        def stats(app):
            rc, out, text = app.ctl("stats")
            if rc != 0 or out is None:
                fail(f"xferctl stats on {app.name}: {text}")
            return out

        def push(src, dest, wait=True):
            cmd = [xfe2e.XFERCTL, "-s", a.sock, "push", src, "b:" + dest] + \
                (["--wait"] if wait else [])
            return subprocess.run(cmd, capture_output=True, text=True, timeout=120)

        def last_job():
            _, out, _ = a.ctl("jobs")
            return out["jobs"][-1] if out and out["jobs"] else {}

        def reload(app, text, what):
            app.write_config(text)
            rc, out, msg = app.ctl("reload")
            check(rc == 0 and out is not None and out["applied"] is True,
                  f"{app.name}: reload {what} applied: {out and out['changed']} {msg[-200:]}")

        def push_ok(dest, what):
            r = push(small, dest)
            same, why = xfe2e.trees_equal(small, os.path.join(t, "b", dest))
            check(r.returncode == 0 and same, f"{what}: {why} {r.stdout[-200:]}")

        def running_push(dest):
            """A paced push of the big tree, once its session is up on both sides."""
            p = subprocess.Popen([xfe2e.XFERCTL, "-s", a.sock, "push", big, "b:" + dest,
                                  "--wait"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 text=True)
            for _ in range(600):
                _, out, _ = b.ctl("sessions")
                if last_job().get("state") == "running" and out and out.get("receiving"):
                    return p
                time.sleep(0.05)
            fail(f"the push to {dest} did not get running: {last_job()}")

        # 1. Not in B's allowlist: refused, never answered.
        s0 = stats(b)
        r = push(small, "one")
        check(r.returncode != 0, f"a push from an address B does not list fails: {r.stdout[-200:]}")
        check(stats(b)["drops"]["hello_not_allowed"] > s0["drops"]["hello_not_allowed"],
              "B counted its HELLOs as not allowed")
        # 2. A added by a reload.
        reload(b, cfg_b([("z", "10.99.1.9", pub), ("a", ip_a, pub)]), "adding A")
        push_ok("two", "then a push completes")
        # 3. A re-keyed on B during a push: the session ends at once, with the reason.
        # Meanwhile xferctl sessions on B shows the session it serves, with A's key.
        s0 = stats(b)
        p = running_push("three")
        want_fp = hashlib.sha256(base64.b64decode(pub)).hexdigest()[:16]
        _, ses, _ = b.ctl("sessions")
        rs = [x for x in ses["sessions"] if x["role"] == "receiver"]
        check(len(rs) == 1 and rs[0]["peer"] == "a" and rs[0]["peer_ip"] == ip_a and
              rs[0]["key_fingerprint"] == want_fp and 0 <= rs[0]["key_age_ms"] < 60000 and
              rs[0]["rekeys"] == 0 and rs[0]["key_updates"] == 0,
              f"B's xferctl sessions shows the served session and its peer's key: {rs}")
        rc, _, text = b.ctl("sessions", json_out=False)
        check(rc == 0 and f"keys {want_fp}: age " in text and "receiver" in text,
              f"and its table form: {text}")
        reload(b, cfg_b([("z", "10.99.1.9", pub), ("a", ip_a, other)]), "re-keying A")
        out, _ = p.communicate(timeout=60)
        j = last_job()
        check(p.returncode != 0 and j.get("state") == "failed" and
              "re-keyed by a reload" in (j.get("error") or ""),
              f"A's push ends, saying why: {j.get('state')}: {j.get('error')}")
        s1 = stats(b)
        check(s1["security"]["peer_sessions_ended"] == s0["security"]["peer_sessions_ended"] + 1,
              f"B ended one session for the reload: {s1['security']['peer_sessions_ended']}")
        for _ in range(200):
            _, ses, _ = b.ctl("sessions")
            if ses and ses.get("receiving") == 0:
                break
            time.sleep(0.05)
        check(ses.get("receiving") == 0, "B serves no session of A any more")
        r = push(small, "three-b")
        check(r.returncode != 0 and stats(b)["drops"]["hs_no_key"] > s1["drops"]["hs_no_key"],
              "a new push with the old key fails its handshake (B: hs_no_key)")
        check(not os.path.exists(os.path.join(t, "b", "three-b")), "and writes nothing")
        # 4. The right key back.
        reload(b, cfg_b([("z", "10.99.1.9", pub), ("a", ip_a, pub)]), "restoring A's key")
        push_ok("four", "then a push completes again")
        # 5. B removed on A during a push: the job ends; B cannot be named any more.
        s0 = stats(a)
        p = running_push("five")
        reload(a, cfg_a([], 16), "removing B")
        out, _ = p.communicate(timeout=60)
        j = last_job()
        check(p.returncode != 0 and j.get("state") == "failed" and
              "removed or re-keyed by a reload" in (j.get("error") or ""),
              f"A's push to the removed peer ends, saying why: {j.get('error')}")
        check(stats(a)["security"]["peer_sessions_ended"] ==
              s0["security"]["peer_sessions_ended"] + 1, "A counted the push it ended")
        r = push(small, "five-b", wait=False)
        check(r.returncode != 0 and "no peer 'b'" in r.stdout + r.stderr,
              f"a push to the removed peer is refused: {(r.stdout + r.stderr).strip()}")
        # 6. B back on A: pushes work again; neither appliance restarted.
        reload(a, cfg_a([b_peer], 16), "adding B back")
        push_ok("six", "then a push completes")
        for app in apps:
            check(app.p.poll() is None, f"{app.name} ran through every reload")
        for app in apps:
            check(app.stop() == 0, f"{app.name} stops with exit 0")
        apps = []
        ok = True
    finally:
        xfe2e.finish(t, apps, ok)


if __name__ == "__main__":
    main()
