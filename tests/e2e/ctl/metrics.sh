#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The Prometheus endpoint (metrics.listen; docs/OPERATIONS.md "Metrics") during and after
# a push on the dev pair:
#   - a scrape of A taken while the push runs shows the job running, and
#     `promtool check metrics` accepts it (names, types, HELP, units);
#   - every number of `xferctl --json stats` is in the scrape under its name, and no
#     counter scraped is above what xferctl says after it; the finished job's counters
#     equal those of `xferctl --json jobs`; B counted the frames it received, and its
#     volume's receive pipeline took them with nothing dropped;
#   - only GET /metrics is served: other paths 404, other methods 405;
#   - the example Grafana dashboard (dist/grafana/xferd.json) queries only served names.
#
#   metrics.sh XFERD XFERCTL
set -euo pipefail
# shellcheck source=tests/e2e/lib/pair.sh
. "$(dirname "$0")/../lib/pair.sh"
pair_init e2e-metrics "${1:?}" "${2:?}"
check() { python3 "$(dirname "$0")/metrics_check.py" "$@"; }
command -v promtool >/dev/null || pair_fail "needs promtool (package prometheus)"

# Two free TCP ports on the loopback (the kernel picks them; nothing else binds there).
read -r port_a port_b < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
url_a=http://127.0.0.1:$port_a/metrics
url_b=http://127.0.0.1:$port_b/metrics

# 48 MiB at 150 Mbit/s: the push runs for about 3 s, long enough to scrape it running.
src=$PAIR_DIR/src
python3 "$PAIR_LIB_DIR/mktree.py" many "$src" --files 48 --dirs 4 --max-size 2097152 --seed 24 >/dev/null
deadline=$((SECONDS + PAIR_READY_TIMEOUT))
pair_start_one a server --set "metrics.listen=127.0.0.1:$port_a" --set session.rate_mbit=150
pair_wait_ready_line a "$PAIR_PID_A" "$deadline"
pair_start_one b client --set "metrics.listen=127.0.0.1:$port_b"
pair_wait_ready_line b "$PAIR_PID_B" "$deadline"
pair_wait_link a "$PAIR_PID_A" "$deadline"
pair_wait_link b "$PAIR_PID_B" "$deadline"

check get "$url_a" >"$PAIR_DIR/idle.prom" || pair_fail "GET $url_a failed"
promtool check metrics <"$PAIR_DIR/idle.prom" || pair_fail "promtool rejects the idle scrape"

pair_ctl a push "$src" b:dest --wait >"$PAIR_DIR/push.out" 2>&1 &
push=$!
# Scrape until one shows the job running (each scrape waits for a fresh rendering).
running=0
for ((i = 0; i < 500; i++)); do
	check get "$url_a" >"$PAIR_DIR/during.prom" || pair_fail "GET $url_a during the push failed"
	if grep -q '^xferd_job_info{.*state="running"' "$PAIR_DIR/during.prom"; then
		running=1
		break
	fi
	kill -0 "$push" 2>/dev/null || break
done
[ "$running" -eq 1 ] || pair_fail "no scrape showed the job running"
out=$(promtool check metrics <"$PAIR_DIR/during.prom" 2>&1) ||
	pair_fail "promtool rejects the scrape taken during the push: $out"
[ -z "$out" ] || pair_fail "promtool warns on the scrape taken during the push: $out"
wait "$push" || pair_fail "the push failed: $(cat "$PAIR_DIR/push.out")"
pair_log "scraped during the push: $(grep -c '^xferd' "$PAIR_DIR/during.prom") samples"

check get "$url_a" >"$PAIR_DIR/after.prom" || pair_fail "GET $url_a after the push failed"
pair_ctl a --json stats >"$PAIR_DIR/stats.json"
pair_ctl a --json jobs >"$PAIR_DIR/jobs.json"
n=$(check stats "$PAIR_DIR/after.prom" "$PAIR_DIR/stats.json") || pair_fail "stats and metrics differ"
m=$(check jobs "$PAIR_DIR/after.prom" "$PAIR_DIR/jobs.json") || pair_fail "jobs and metrics differ"
pair_log "every stats number in the scrape ($n compared), job counters equal ($m compared)"
promtool check metrics <"$PAIR_DIR/after.prom" || pair_fail "promtool rejects the scrape after the push"

# The example Grafana dashboard queries only what is served.
check dashboard "$PAIR_DIR/during.prom" "$PAIR_SRC_ROOT/dist/grafana/xferd.json" >/dev/null ||
	pair_fail "dist/grafana/xferd.json queries metrics that are not served"

# The receiver: frames counted, and the same names.
check get "$url_b" >"$PAIR_DIR/b.prom" || pair_fail "GET $url_b failed"
pair_ctl b --json stats >"$PAIR_DIR/b-stats.json"
check stats "$PAIR_DIR/b.prom" "$PAIR_DIR/b-stats.json" >/dev/null || pair_fail "B: stats and metrics differ"
frames=$(check value "$PAIR_DIR/b.prom" xferd_frames_total)
[ "$frames" -gt 48 ] || pair_fail "B counted $frames frames for 48 files"
# Its volume's receive pipeline took the push's frames (some of those counted), and a
# correct sender has none dropped there as undecodable, refused by its session, or meant
# for a dry run (hostile-session.sh counts them for known bad frames).
vol=$(python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); r = r.get("result", r)
print(r["volumes"][0]["name"])' "$PAIR_DIR/b-stats.json")
pframes=$(check value "$PAIR_DIR/b.prom" xferd_volume_pipeline_frames_total "volume=$vol")
[ "$pframes" -gt 48 ] && [ "$pframes" -le "$frames" ] ||
	pair_fail "B's volume $vol: $pframes pipeline frames, expected 48 < n <= $frames"
for k in bad_frames proto_err proto_aborts dry_dropped; do
	v=$(check value "$PAIR_DIR/b.prom" "xferd_volume_pipeline_${k}_total" "volume=$vol")
	[ "$v" = 0 ] || pair_fail "B's volume $vol: pipeline_$k is $v for a correct push"
done

# Nothing else is served.
[ "$(check status "http://127.0.0.1:$port_a/" GET)" = 404 ] || pair_fail "GET / is not 404"
[ "$(check status "http://127.0.0.1:$port_a/metricsx" GET)" = 404 ] || pair_fail "GET /metricsx is not 404"
[ "$(check status "$url_a" POST)" = 405 ] || pair_fail "POST /metrics is not 405"
pair_verify "$src" "$PAIR_VOL_B/dest"
pair_pass
