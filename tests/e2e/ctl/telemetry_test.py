#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""DPDK telemetry (issue 5): one appliance (memif server, no client), queried with
dpdk-telemetry.py -f PREFIX. Its /xferd/* answers agree with xferctl's.

usage: telemetry_test.py XFERD XFERCTL"""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import xfe2e  # noqa: E402
from xfe2e import check, fail  # noqa: E402


def main():
    xferd, xfe2e.XFERCTL = sys.argv[1], sys.argv[2]
    if not os.path.exists(xfe2e.DPDK_TELEMETRY):
        xfe2e.skip(xfe2e.DPDK_TELEMETRY + " is not installed (package dpdk)")
    t = tempfile.mkdtemp(prefix="xf-tel-")
    prefix = f"tel{os.getpid()}"
    a = None
    ok = False
    try:
        a = xfe2e.Appliance(xferd, t, "a", xfe2e.config_yaml(
            t, "a", "server", "10.99.0.1", "b", "10.99.0.2", prefix), prefix)
        root, = xfe2e.telemetry(prefix, "/")
        for c in ("/xferd/status", "/xferd/stats", "/xferd/jobs", "/xferd/sessions"):
            check(c in root, c + " is registered")

        st, = xfe2e.telemetry(prefix, "/xferd/status")
        rc, cs, _ = a.ctl("status")
        check(rc == 0, "xferctl status")
        for k in ("name", "version", "state", "sessions", "jobs"):
            check(st[k] == cs[k], f"status.{k}: telemetry {st[k]!r} == xferctl {cs[k]!r}")
        check(st["port"] == cs["ports"][0]["name"] and st["ipv4"] == cs["ports"][0]["ipv4"],
              f"status port {st['port']} {st['ipv4']}")
        check(st["log_level"] == "notice" and st["reloads"] == 0, "status shows the config")
        check((st["rate_mbit"], st["timeout_ms"], st["keepalive_ms"], st["idle"]) ==
              (0, 10000, 1000, "backoff"), "status shows the engine's session parameters")

        # Nothing moves on an appliance without a peer: the counters must agree exactly.
        tel, = xfe2e.telemetry(prefix, "/xferd/stats")
        rc, cs, _ = a.ctl("stats")
        check(rc == 0, "xferctl stats")
        # net_memif is a shared-memory link: no UDP checksums sent (udp_checksum: auto).
        check(cs["ports"][0]["udp_checksum_tx"] == "none",
              f"UDP checksums on memif: {cs['ports'][0]['udp_checksum_tx']}")
        want = {"port_name": cs["ports"][0]["name"], "volume_io": cs["volumes"][0]["io"],
                "volume_apply": cs["volumes"][0]["apply"]}
        for k, v in cs["ports"][0].items():
            if k != "name":
                want["port_" + k] = v
        for k, v in cs["drops"].items():
            want["drop_" + k] = v
        want.update(cs["dataplane"])
        # dataplane.source_readers[]: flattened by lcore (DPDK 22.11 arrays hold no dicts)
        for rd in want.pop("source_readers"):
            for k in ("whole_files", "delta_files", "parks"):
                want[f"source_reader_{rd['lcore']}_{k}"] = rd[k]
        for k, v in cs["delta"].items():
            if isinstance(v, dict):  # delta.sig_cache: delta_sig_cache_hits, ...
                want.update({f"delta_{k}_{kk}": vv for kk, vv in v.items()})
            else:
                want["delta_" + k] = v
        want.update({"compress_" + k: v for k, v in cs["compress"].items()})
        # Each volume's receive pipeline counters, summed over the volumes.
        for vol in cs["volumes"]:
            for k, v in vol.items():
                if k.startswith("pipeline_"):
                    want[k] = want.get(k, 0) + v
        check(all(k in want for k in ("pipeline_frames", "pipeline_data_dropped",
                                      "pipeline_dry_dropped", "pipeline_proto_err")),
              "xferctl stats has the volumes' pipeline counters")
        check(tel == want, f"/xferd/stats has exactly xferctl stats' counters ({len(want)})")

        jobs, sess = xfe2e.telemetry(prefix, "/xferd/jobs", "/xferd/sessions")
        check(jobs == {"ids": [], "running": 0}, f"no jobs yet: {jobs}")
        check(sess == {"sending": [], "receiving": 0}, f"no sessions yet: {sess}")

        # A push to a peer that is not there: the job runs (HELLO unanswered).
        src = os.path.join(t, "src")
        xfe2e.make_tree(src, 20, 1)
        rc, out, text = a.ctl("push", src, "b:x")
        check(rc == 0 and out is not None, f"push accepted: {text}")
        jid = out["job"]
        for _ in range(600):
            j, = xfe2e.telemetry(prefix, f"/xferd/jobs,{jid}")
            if j is not None and j["state"] == "running":
                break
            time.sleep(0.05)
        check(j is not None and j["state"] == "running", f"/xferd/jobs,{jid} is running")
        rc, cj, _ = a.ctl("jobs")
        cj = cj["jobs"][0]
        for k in ("id", "src", "peer", "dest", "files_total", "files_failed", "io"):
            check(j[k] == cj[k], f"job.{k}: telemetry {j[k]!r} == xferctl {cj[k]!r}")
        # The congestion controller, flat (cc_*) in telemetry, "cc" in xferctl; no window
        # without one (session.congestion none), and pacing at the NIC's rate (0).
        for k in ("algo", "state", "pacing_bps", "min_rtt_us", "bw_bps"):
            check(j["cc_" + k] == cj["cc"][k],
                  f"job.cc.{k}: telemetry {j['cc_' + k]!r} == xferctl {cj['cc'][k]!r}")
        check(j["cc_algo"] == "none" and "cc_cwnd_bytes" not in j
              and cj["cc"]["cwnd_bytes"] is None, f"no window without a controller: {j}")
        jobs, sess, st = xfe2e.telemetry(prefix, "/xferd/jobs", "/xferd/sessions",
                                        "/xferd/status")
        check(jobs == {"ids": [jid], "running": 1}, f"/xferd/jobs lists it: {jobs}")
        check(sess["sending"] == [jid], f"/xferd/sessions lists it: {sess}")
        check(st["jobs"] == 1, "status counts it")
        bad = xfe2e.telemetry(prefix, f"/xferd/jobs,{jid + 100}", "/xferd/jobs,x",
                              "/xferd/sessions,-1")
        check(bad == [None, None, None], f"unknown or malformed ids answer null: {bad}")

        rc, _, text = a.ctl("cancel", str(jid))
        check(rc == 0, f"cancel: {text}")
        for _ in range(600):
            j, = xfe2e.telemetry(prefix, f"/xferd/jobs,{jid}")
            if j["state"] != "running":
                break
            time.sleep(0.05)
        check(j["state"] == "cancelled", f"telemetry sees the job cancelled ({j['state']})")
        sess, = xfe2e.telemetry(prefix, "/xferd/sessions")
        check(sess["sending"] == [], "and no longer sending")
        rc = a.stop()
        check(rc == 0, "xferd stops with exit 0")
        a = None
        ok = True
    finally:
        xfe2e.finish(t, [a] if a is not None else [], ok)


if __name__ == "__main__":
    main()
