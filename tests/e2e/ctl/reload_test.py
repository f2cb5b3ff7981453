#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Reload during a push (issue 5): two appliances over net_memif; while A pushes a few
thousand files to B, A is reloaded with a good change (log level and rate: applied and
reported), a syntactically bad file (refused, old config kept), a restart-only change
(refused and listed), then by SIGHUP. The push completes byte-identical.

usage: reload_test.py XFERD XFERCTL"""
import base64
import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import xfe2e  # noqa: E402
from xfe2e import check, fail  # noqa: E402

NFILES = 3000


def main():
    xferd, xfe2e.XFERCTL = sys.argv[1], sys.argv[2]
    t = tempfile.mkdtemp(prefix="xf-reload-")
    tag = f"r{os.getpid()}"
    # A paced push (20 Mbit/s, ~12 MB) so it is still running while we reload.
    base = {"rate_mbit": 20}
    cfg_a = lambda **kw: xfe2e.config_yaml(t, "a", "server", "10.99.0.1", "b", "10.99.0.2",
                                           tag + "a", {**base, **kw})
    cfg_b = xfe2e.config_yaml(t, "b", "client", "10.99.0.2", "a", "10.99.0.1", tag + "b")
    apps = []
    ok = False
    try:
        a = xfe2e.Appliance(xferd, t, "a", cfg_a(), tag + "a")
        apps.append(a)
        st, = xfe2e.telemetry(tag + "a", "/xferd/status")
        check(st["rate_mbit"] == 20, "the engine starts with the file's rate")
        b = xfe2e.Appliance(xferd, t, "b", cfg_b, tag + "b")
        apps.append(b)
        src = os.path.join(t, "src")
        xfe2e.make_tree(src, NFILES, 5)
        push = subprocess.Popen([xfe2e.XFERCTL, "-s", a.sock, "push", src, "b:in", "--wait"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

        def job_state():
            rc, out, text = a.ctl("jobs")
            if rc != 0 or out is None:
                fail(f"xferctl jobs: {text}")
            return out["jobs"][0]["state"] if out["jobs"] else None

        # Wait for the job to exist (push --wait has sent the request) and its RX core to
        # have started it (queued until then: the handshake's message 1 is made there).
        for _ in range(600):
            if job_state() not in (None, "queued"):
                break
            time.sleep(0.05)
        check(job_state() == "running", "the push is running before the reloads")
        # The session is keyed (session.security aead): its peer's key fingerprint (the
        # first 8 bytes of SHA-256 of the public key, never the key), its keys' age.
        _, pub = xfe2e.test_key(t)
        want_fp = hashlib.sha256(base64.b64decode(pub)).hexdigest()[:16]
        s0 = {}
        for _ in range(600):
            rc, out, _ = a.ctl("sessions")
            if rc == 0 and out is not None and out["sessions"]:
                s0 = out["sessions"][0]
                if "key_fingerprint" in s0:
                    break
            time.sleep(0.05)
        check(s0.get("key_fingerprint") == want_fp and s0["key_age_ms"] >= 0
              and s0["key_updates"] == 0, f"xferctl sessions shows the session's keys: {s0}")
        # Its congestion controller (session.congestion none: pacing at rate_mbit, no
        # window), in the JSON and on the table's second line.
        cc = s0.get("cc") or {}
        check(cc.get("algo") == "none" and cc.get("state") == "-"
              and cc.get("pacing_bps") == 20_000_000 and cc.get("cwnd_bytes", 0) is None
              and cc.get("inflight_bytes", -1) >= 0 and 0 <= cc.get("loss_pm", -1) <= 1000,
              f"xferctl sessions shows the session's congestion control: {cc}")
        rc, _, text = a.ctl("sessions", json_out=False)
        check(rc == 0 and "cc none -: bw 0.0 Mbit/s" in text and "pacing 20.0 Mbit/s" in text
              and "cwnd none" in text, f"and its table form: {text}")
        rc, st, _ = a.ctl("stats")
        check(st["security"]["mode"] == "aead" and st["security"]["handshakes"] == 1
              and st["security"]["frames_sealed"] > 0 and st["security"]["nonce_refused"] == 0,
              f"stats: one handshake, frames sealed, no nonce refused: {st['security']}")

        # 1. A good change: log level and rate. Applied, and reported.
        a.write_config(cfg_a(log_level="info", rate_mbit=25))
        rc, out, text = a.ctl("reload")
        check(rc == 0 and out is not None and out["applied"] is True,
              f"good reload applied (rc {rc})")
        changed = set(out["changed"])
        check(changed == {"appliance.log_level: notice -> info (reloadable)",
                          "session.rate_mbit: 20 -> 25 (reloadable)"},
              f"the reload reports exactly what changed: {sorted(changed)}")
        check(out["restart_needed"] == [], "nothing needs a restart")
        rc, _, text = a.ctl("reload", json_out=False)
        check(rc == 0 and "reload applied" in text, "the table form says 'reload applied'")

        # 2. A syntactically bad file: refused, the running config kept.
        with open(a.cfg, "a") as f:
            f.write("session: {rate_mbit: 30\n")
        rc, out, text = a.ctl("reload")
        check(rc == 1, f"a bad file is refused with exit code 1 ({rc})")
        check("not valid" in text and "running one is kept" in text,
              "the error says the file is invalid and the running config is kept")

        # 3. A restart-only change (mtu) with a reloadable one: refused whole, listed.
        a.write_config(cfg_a(log_level="debug", rate_mbit=25, mtu=9000))
        rc, out, text = a.ctl("reload")
        check(out is not None and out["applied"] is False, "a restart-only change is refused")
        check(rc == 1, f"and xferctl reload exits 1 (rc {rc})")
        check(out["restart_needed"] == ["ports[0].mtu: 1500 -> 9000 (restart)"],
              f"and listed: {out['restart_needed']}")
        check("appliance.log_level: info -> debug (reloadable)" in out["changed"],
              "the diff is against the running config (the good reload's info level)")
        rc, _, text = a.ctl("reload", json_out=False)
        check("reload refused" in text and "needs a restart: ports[0].mtu" in text,
              "the table form lists the change that needs a restart")

        # The daemon kept the good reload's config: telemetry shows it.
        st, = xfe2e.telemetry(tag + "a", "/xferd/status")
        # Two applied: the good change, then the table-form reload of the same file.
        check(st["log_level"] == "info" and st["reloads"] == 2,
              f"running config is the good reload's (log_level {st['log_level']}, "
              f"reloads {st['reloads']})")
        check(st["reloads_refused"] >= 3, f"refusals counted ({st['reloads_refused']})")
        # The engine publishes the new rate to its cores (new sessions take it).
        check(st["rate_mbit"] == 25 and st["timeout_ms"] == 10000,
              f"the engine's session parameters are the reloaded ones ({st['rate_mbit']} Mbit/s)")

        # 4. SIGHUP with a good file applies it too.
        a.write_config(cfg_a(log_level="notice", rate_mbit=25))
        a.p.send_signal(signal.SIGHUP)
        for _ in range(600):
            st, = xfe2e.telemetry(tag + "a", "/xferd/status")
            if st["reloads"] == 3:
                break
            time.sleep(0.05)
        check(st["reloads"] == 3 and st["log_level"] == "notice", "SIGHUP reloaded the file")
        check(job_state() == "running", "the push was still running through every reload")

        out_text, _ = push.communicate(timeout=600)
        check(push.returncode == 0, f"push --wait exit 0 ({push.returncode}): {out_text[-300:]}")
        rc, out, _ = a.ctl("jobs")
        j = out["jobs"][0]
        check(j["state"] == "done" and j["files_failed"] == 0,
              f"job done, {j['files_sent']} sent, {j['files_failed']} failed")
        same, why = xfe2e.trees_equal(src, os.path.join(t, "b", "in"))
        check(same, "the pushed tree is byte-identical: " + why)
        for app in apps:
            check(app.stop() == 0, f"{app.name} stops with exit 0")
        apps = []
        ok = True
    finally:
        xfe2e.finish(t, apps, ok)


if __name__ == "__main__":
    main()
