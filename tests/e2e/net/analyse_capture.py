#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Read a capture of pushes from a sender to one receiver with the Wireshark dissector
(tshark -X lua_script:xferd.lua) and check it against the appliances' counters
(`xferctl --json jobs` on the sender, `xferctl --json stats` on both).

Checked: every UDP datagram is decoded as xferd, with no malformed-packet mark and no
expert error; HELLO to DONE (types 1..11) all appear; the receiver's `frames` equals the
sender's datagrams (on a loaded machine less at most those the sender declared lost and
its ACKs); one receive session per HELLO'd session id (`sessions_opened`); per
job (in HELLO order), the UDP payload bytes each way (sealed: with the AEAD tag) equal its
`wire_bytes_sent` and `wire_bytes_received`, and its DATA bytes equal `bytes_literal` when nothing was sent
again; with `--mode none` no frame is sealed and every DATA, FLIST entry and HELLO field
is decoded; with `aead` every frame but the HELLO is sealed, the HELLO and the HELLO_ACK
carry Noise messages 1 and 2, and the frames sealed and opened by each side equal the
frames on the wire. Each --secret string (a push's destination path, a filter rule:
what only the HELLO's destination field holds) is in the capture's bytes with `none`
(the check can see it) and in none of them with `aead`: the HELLOs carry it sealed in
Noise message 1 (the dissector shows a field of that many bytes there, and no dest).

    analyse_capture.py --lua XFERD.LUA --mode none|aead --cap FILE --sender IP
                       --jobs JOBS.json --a A_STATS.json --b B_STATS.json [--secret S]...
"""
import argparse
import collections
import json
import subprocess
import sys

NAMES = ["?", "HELLO", "HELLO_ACK", "FLIST", "DECISION", "SIG", "DATA", "COPY", "FILE_END",
         "COMMIT", "ACK", "DONE", "ABORT", "PING"]
FIELDS = ["frame.number", "ip.src", "udp.length", "xferd.type", "xferd.session", "xferd.len",
          "xferd.sealed", "xferd.data.len", "xferd.noise.type", "xferd.entry.path",
          "xferd.hello.max_payload", "xferd.hello.dest_len", "xferd.noise.sealed_len",
          "xferd.hello.flags", "xferd.hello.window",
          "_ws.malformed", "_ws.expert.severity"]
ERROR_SEVERITY = {"8388608", "Error"}  # PI_ERROR, as a number or a name


def load(path):
    with open(path) as f:
        r = json.load(f)
    return r.get("result", r)


def truthy(v):
    return v not in ("", "0", "False", "false")


def main():
    ap = argparse.ArgumentParser()
    for a in ("lua", "mode", "cap", "sender", "jobs", "a", "b"):
        ap.add_argument("--" + a, required=True)
    ap.add_argument("--secret", action="append", default=[])
    o = ap.parse_args()
    # Probes the capture started with (UDP to port 9) are left out.
    cmd = ["tshark", "-n", "-X", "lua_script:" + o.lua, "-r", o.cap, "-Y", "!(udp.dstport == 9)",
           "-T", "fields",
           "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rows = [dict(zip(FIELDS, line.split("\t"))) for line in out.splitlines() if line]
    jobs = sorted(load(o.jobs)["jobs"], key=lambda j: j["id"])
    sa, sb = load(o.a), load(o.b)
    fails = []

    def check(ok, what):
        if not ok:
            fails.append(what)

    count = collections.Counter()
    # (session, dir) -> UDP payload bytes: xferd's wire_bytes_* count what crosses, a
    # sealed frame with its 16-byte tag.
    wire = collections.Counter()
    last_in = collections.defaultdict(list)  # the sizes of each session's frames toward A
    data = collections.Counter()  # session -> DATA bytes
    order = []  # session ids in HELLO order
    for r in rows:
        n = r["frame.number"]
        if not r["xferd.type"]:
            check(False, f"frame {n}: UDP datagram not decoded as xferd")
            continue
        t = int(r["xferd.type"])
        d = "out" if r["ip.src"] == o.sender else "in"
        s = r["xferd.session"]
        count[(t, d)] += 1
        sealed = truthy(r["xferd.sealed"])
        wire[(s, d)] += int(r["udp.length"]) - 8
        if d == "in":
            last_in[s] = (last_in[s] + [int(r["udp.length"]) - 8])[-3:]
        check(int(r["udp.length"]) == int(r["xferd.len"]) + 32,
              f"frame {n}: UDP length {r['udp.length']} is not 8 + 24 + len {r['xferd.len']}")
        check(not r["_ws.malformed"], f"frame {n}: malformed-packet mark")
        check(not (set(r["_ws.expert.severity"].split(",")) & ERROR_SEVERITY),
              f"frame {n}: expert error ({NAMES[t]})")
        if t == 1 and s not in order:
            order.append(s)
        if t == 6 and d == "out":
            check(r["xferd.data.len"] != "", f"frame {n}: DATA without its length")
            data[s] += int(r["xferd.data.len"] or 0)
        if o.mode == "none":
            check(not sealed, f"frame {n}: {NAMES[t]} shown sealed in a session in clear")
            if t == 3:
                check(r["xferd.entry.path"] != "" or r["xferd.len"] == "8",
                      f"frame {n}: FLIST entries not decoded")
            if t in (1, 2):
                check(r["xferd.hello.max_payload"] != "", f"frame {n}: HELLO fields not decoded")
        else:
            check(sealed == (t != 1), f"frame {n}: {NAMES[t]} sealed={sealed}")
            if t in (1, 2):
                check(r["xferd.noise.type"] == str(t),
                      f"frame {n}: {NAMES[t]} without Noise message {t}")
            if t == 1 and o.secret:
                # The options and the destination field are message 1's payload, none of
                # them in clear: the flags AEAD, SEALED_DEST, SEALED_OPTS alone, window 0,
                # the sealed block of its one size at MTU 1500 (xf_hs_block.h), whatever
                # the destination field.
                sl = int(r["xferd.noise.sealed_len"] or 0)
                check(r["xferd.hello.dest_len"] == "0" and sl == 1256,
                      f"frame {n}: HELLO dest_len {r['xferd.hello.dest_len']}, "
                      f"sealed in message 1 {sl} bytes")
                check(int(r["xferd.hello.flags"], 0) == 0x24002 and r["xferd.hello.window"] == "0",
                      f"frame {n}: HELLO flags {r['xferd.hello.flags']} window "
                      f"{r['xferd.hello.window']} in clear")

    print(f"{o.mode}: {len(rows)} datagrams; by type (sender -> receiver / back):")
    for t in range(1, 14):
        if count[(t, "out")] or count[(t, "in")]:
            print(f"  {NAMES[t]:<9} {count[(t, 'out')]:>6} / {count[(t, 'in')]}")
    for t in range(1, 12):
        check(count[(t, "out")] + count[(t, "in")] > 0, f"no {NAMES[t]} frame in the capture")

    out_total = sum(v for (t, d), v in count.items() if d == "out")
    in_total = sum(v for (t, d), v in count.items() if d == "in")
    hello_out = count[(1, "out")]
    dpb = sb["dataplane"]
    print(f"  receiver: frames={dpb['frames']} sessions_opened={dpb['sessions_opened']}")
    # The capture is taken on the bridge, before the receiver's socket: a frame lost there
    # (its ring full on a loaded machine) is on the wire but not counted, and the sender
    # declares it lost. Without loss the counts are equal.
    # Lost after the capture point: toward the receiver, at most the frames the sender
    # declared lost plus its ACKs (never tracked); toward the sender, the receiver's
    # numbers the sender never got (its jobs' peer_missing).
    lost = sum(j["lost"] for j in jobs)
    acks_out = count[(10, "out")]
    missing = sum(j["peer_missing"] for j in jobs)
    if lost == 0:
        check(dpb["frames"] == out_total,
              f"receiver counted {dpb['frames']} frames, the capture has {out_total} toward it")
    else:
        check(out_total - lost - acks_out <= dpb["frames"] <= out_total,
              f"receiver counted {dpb['frames']} frames, the capture has {out_total} toward it, "
              f"the sender declared {lost} lost and sent {acks_out} ACKs")
    check(dpb["sessions_opened"] == len(order),
          f"receiver opened {dpb['sessions_opened']} sessions, {len(order)} HELLO'd in the capture")
    check(len(jobs) == len(order), f"{len(jobs)} jobs, {len(order)} sessions in the capture")
    for j, s in zip(jobs, order):
        print(f"  job {j['id']} (session {s}): wire_bytes_sent={j['wire_bytes_sent']} "
              f"(capture {wire[(s, 'out')]}) wire_bytes_received={j['wire_bytes_received']} "
              f"(capture {wire[(s, 'in')]}) bytes_literal={j['bytes_literal']} "
              f"(DATA {data[s]}) retransmits={j['retransmits']}")
        check(j["wire_bytes_sent"] == wire[(s, "out")], f"job {j['id']}: wire_bytes_sent")
        if j["peer_missing"] == 0:
            # Equal, but for what reached A after its job had ended (the receiver's last
            # ACK or keep-alive): at most the session's last three frames toward A.
            extra = wire[(s, "in")] - j["wire_bytes_received"]
            check(0 <= extra <= sum(last_in[s]),
                  f"job {j['id']}: wire_bytes_received {j['wire_bytes_received']}, the capture "
                  f"{wire[(s, 'in')]} (its last frames toward A: {last_in[s]})")
        else:
            check(j["wire_bytes_received"] <= wire[(s, "in")],
                  f"job {j['id']}: wire_bytes_received above the capture")
        if j["retransmits"] == 0:
            check(j["bytes_literal"] == data[s], f"job {j['id']}: DATA bytes != bytes_literal")
        else:
            check(data[s] >= j["bytes_literal"], f"job {j['id']}: DATA bytes < bytes_literal")
    if o.mode == "aead":
        seca, secb = sa["security"], sb["security"]
        print(f"  sealed/opened: sender {seca['frames_sealed']}/{seca['frames_opened']}, "
              f"receiver {secb['frames_sealed']}/{secb['frames_opened']}")
        # What one side sealed all crossed the capture point; what the other opened is
        # that, less what was lost after it (bounded as above; toward the sender equal
        # when it missed none of the receiver's numbers).
        check(seca["frames_sealed"] == out_total - hello_out, "sender's frames_sealed")
        check(secb["frames_sealed"] == in_total, "receiver's frames_sealed")
        check(out_total - hello_out - lost - acks_out <= secb["frames_opened"] <=
              out_total - hello_out, "receiver's frames_opened")
        check(seca["frames_opened"] <= in_total and
              (missing > 0 or seca["frames_opened"] == in_total), "sender's frames_opened")
    with open(o.cap, "rb") as f:
        raw = f.read()
    for secret in o.secret:
        seen = raw.count(secret.encode())
        print(f"  '{secret}' in the capture's bytes: {seen} times")
        if o.mode == "none":
            check(seen > 0, f"'{secret}' not in the capture in clear: the search sees nothing")
        else:
            check(seen == 0, f"'{secret}' is in the capture in clear under aead")
    for f in fails:
        print("FAIL: " + f)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
