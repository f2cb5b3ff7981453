#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end over net_memif: many jobs at once (docs/ENGINE.md, "Many jobs at once").
# A starts JOBS pushes to B at once (default 16), over B's two volumes, while B pushes
# BACK trees to A (default 4): every appliance sends and receives at the same time.
# Each tree (its own seed: 60 small files and one of 8 MiB, so that the jobs overlap)
# arrives identical (rsync -a -n -i --checksum). By default both appliances run with
# their configuration's limits (session.max_sessions_per_peer 8 on the receiver,
# session.max_jobs_per_peer 8 on the sender), so at most 8 of A's jobs run at once and
# the others wait `queued`, starting as others end; with CONCURRENT_CAP=N both limits
# are N and more than 8 must run at once. `xferctl jobs` reports each running job's
# share of the rate against the fair share, always within [0, 1].
#
#   [CONCURRENT_CAP=N] push-concurrent.sh XFERD XFERCTL [JOBS [BACK]]
set -euo pipefail
# shellcheck source=tests/e2e/lib/pair.sh
. "$(dirname "$0")/../lib/pair.sh"
pair_init e2e-push-concurrent "${1:?usage: push-concurrent.sh XFERD XFERCTL [JOBS [BACK]]}" "${2:?}"
jobs=${3:-16}
back=${4:-4}
: "${CONCURRENT_TIMEOUT:=300}"

export PAIR_VOLUMES="data archive"
cap=${CONCURRENT_CAP:-8}
# Each session paced at 40 Mbit/s: a job (about 10 MB) lasts about 2 s, so that the
# polls below, seconds apart on a loaded machine, see the jobs run side by side.
# Unpaced, jobs that the 2 CPUs ran back to back once showed at most 8 at a poll with
# a cap of 16, and once none at all.
if [ -n "${CONCURRENT_CAP:-}" ]; then
	pair_start --set "session.max_sessions_per_peer=$cap" --set "session.max_jobs_per_peer=$cap" \
		--set session.rate_mbit=40
else
	pair_start --set session.rate_mbit=40
fi

for ((i = 0; i < jobs + back; i++)); do
	python3 "$PAIR_LIB_DIR/mktree.py" many "$PAIR_DIR/src$i" --files 60 --dirs 4 \
		--max-size 65536 --seed $((100 + i)) >/dev/null
	python3 "$PAIR_LIB_DIR/mktree.py" sizes "$PAIR_DIR/src$i/big" 8388608 --seed $((i + 1)) >/dev/null
done

# start SIDE FIRST COUNT TARGET-PYEXPR [EXTRA]: COUNT push requests on one connection to
# SIDE's control socket, written at once (the jobs start together, not one xferctl
# apart); prints the job ids. TARGET-PYEXPR gives (volume, dest) for tree i. With EXTRA
# (a directory), one more push of it to "extra", cancelled as soon as it is accepted:
# behind COUNT jobs it is still queued then (its id is printed last).
start() {
	timeout 30 python3 - "$PAIR_DIR" "$@" <<'PY'
import json, socket, sys
d, side, first, count, target = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
extra = sys.argv[6] if len(sys.argv) > 6 else None
peer = "b" if side == "a" else "a"
reqs = []
for i in range(first, first + count):
    vol, dest = eval(target)
    reqs.append({"src": f"{d}/src{i}", "peer": peer, "dest": dest, "volume": vol})
if extra:
    reqs.append({"src": extra, "peer": peer, "dest": "extra"})
s = socket.socket(socket.AF_UNIX)
s.connect(f"{d}/{side}.sock")
s.sendall("".join(json.dumps({"v": 1, "id": i, "cmd": "push", "args": a}) + "\n"
                  for i, a in enumerate(reqs)).encode())
f = s.makefile()
ids = []
for _ in reqs:
    r = json.loads(f.readline())
    if not r.get("ok"):
        sys.exit(f"push {r.get('id')}: {r}")
    ids.append(r["result"]["job"])
if extra:
    s.sendall((json.dumps({"v": 1, "cmd": "cancel", "args": {"id": ids[-1]}}) + "\n").encode())
    r = json.loads(f.readline())
    if not r.get("ok"):
        sys.exit(f"cancel {ids[-1]}: {r}")
print("\n".join(map(str, ids)))
PY
}
# A's pushes alternate between B's volumes; B's go to A's first volume.
# One more job to B, cancelled while it waits its turn: it never opens a session.
extra_src=
if [ "$jobs" -ge "$cap" ]; then
	extra_src=$PAIR_DIR/src-extra
	mkdir -p "$extra_src"
	echo x >"$extra_src/f"
fi
mapfile -t ids_a < <(start a 0 "$jobs" '("", f"j{i}") if i % 2 == 0 else ("archive", f"j{i}")' ${extra_src:+"$extra_src"})
extra=
if [ -n "$extra_src" ]; then
	extra=${ids_a[-1]}
	unset 'ids_a[-1]'
fi
mapfile -t ids_b < <(start b "$jobs" "$back" '("", f"back{i}")')
[ "${#ids_a[@]}" -eq "$jobs" ] && [ "${#ids_b[@]}" -eq "$back" ] ||
	pair_fail "started ${#ids_a[@]} of $jobs jobs on A, ${#ids_b[@]} of $back on B"
pair_log "started ${#ids_a[@]} jobs on A, ${#ids_b[@]} on B${extra:+, and cancelled job $extra}"

# Wait for every job to end, watching the most that ran at once and their shares.
deadline=$((SECONDS + CONCURRENT_TIMEOUT))
max_running=0
share_seen=false
while :; do
	read -r left running shares_ok < <(pair_json a '" ".join(map(str, [
		sum(1 for x in j["jobs"] if x["state"] in ("queued", "running")),
		sum(1 for x in j["jobs"] if x["state"] == "running"),
		int(all(0 <= x["share"] <= 1 and abs(x["fair_share"] - 1 / max(1, sum(1 for y in j["jobs"] if y["state"] == "running"))) < 1e-6
		        for x in j["jobs"] if x["state"] == "running"))]))' jobs) ||
		pair_fail "cannot read A's jobs"
	[ "$shares_ok" = 1 ] || pair_fail "a running job's share is out of range"
	[ "$running" -le "$max_running" ] || max_running=$running
	[ "$running" -lt 2 ] || share_seen=true
	left_b=$(pair_json b 'sum(1 for x in j["jobs"] if x["state"] in ("queued", "running"))' jobs) ||
		pair_fail "cannot read B's jobs"
	[ "$left" -gt 0 ] || [ "$left_b" -gt 0 ] || break
	[ "$SECONDS" -lt "$deadline" ] || pair_fail "$left jobs on A and $left_b on B not done in ${CONCURRENT_TIMEOUT}s"
	sleep 0.2
done
pair_log "all done; at most $max_running of A's jobs ran at once; reads asked again: $(pair_json a 'sum(x.get("read_retries", 0) for x in j["jobs"])' jobs)"
[ "$max_running" -ge 2 ] && $share_seen || pair_fail "A's jobs never ran concurrently (at most $max_running)"
# At most session.max_jobs_per_peer ran at once, the others waited their turn; above
# the default, more than the default ran at once.
[ "$max_running" -le "$cap" ] || pair_fail "$max_running jobs ran at once, more than max_jobs_per_peer $cap"
if [ "$cap" -gt 8 ] && [ "$jobs" -gt 8 ] && [ "$max_running" -le 8 ]; then
	pair_fail "max_jobs_per_peer $cap: at most $max_running jobs ran at once"
fi
if [ "$jobs" -gt "$cap" ]; then
	waited=$(pair_json a 'sum(1 for x in j["jobs"] if x["queued_ms"] > 0)' jobs)
	[ "$waited" -ge $((jobs - cap)) ] || pair_fail "only $waited of A's jobs waited queued"
fi

check_job() { # SIDE ID
	pair_json "$1" "[x for x in j['jobs'] if x['id'] == $2][0]" jobs >"$PAIR_DIR/job.json" ||
		pair_fail "cannot read job $2 of $1"
	PAIR_JOB=$2
	pair_expect_field state done
	pair_expect_field files_failed 0
}
for ((i = 0; i < jobs; i++)); do
	check_job a "${ids_a[$i]}"
	if ((i % 2 == 0)); then dst=$PAIR_VOL_B/j$i; else dst=$PAIR_DIR/b-archive/j$i; fi
	pair_verify "$PAIR_DIR/src$i" "$dst"
done
for ((i = 0; i < back; i++)); do
	check_job b "${ids_b[$i]}"
	pair_verify "$PAIR_DIR/src$((jobs + i))" "$PAIR_VOL_A/back$((jobs + i))"
done
if [ -n "$extra" ]; then
	pair_json a "[x for x in j['jobs'] if x['id'] == $extra][0]" jobs >"$PAIR_DIR/job.json"
	PAIR_JOB=$extra
	pair_expect_field state cancelled
	pair_expect_field wire_bytes_sent 0
	[ ! -e "$PAIR_VOL_B/extra" ] || pair_fail "the cancelled queued job wrote b:extra"
fi
# B served every push of A, across its two volumes.
[ "$(pair_json b 'sum(v["sessions_opened"] for v in j["volumes"])' stats)" -eq "$jobs" ] ||
	pair_fail "B opened $(pair_json b 'sum(v["sessions_opened"] for v in j["volumes"])' stats) sessions for $jobs jobs"

pair_pass
