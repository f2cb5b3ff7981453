#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end over net_memif: pushes with filters (docs/FILTERS.md) leave on the receiver
# exactly what `rsync -a` with the same rules makes (diff -r, then rsync -a -n -i
# --checksum both ways: contents, modes, mtimes, symlinks):
# - --exclude, --include, --filter, --exclude-from (comments, CRLF) in one push, order kept;
# - a filter that excludes everything: the push succeeds and the destination is empty;
# - the job reports the entries it filtered out (an excluded directory counts once);
# - a bad rule is refused by xferctl (exit 2, the rule and the reason named) and, sent
#   raw past xferctl, by the daemon (invalid_args naming filters[i], counted in stats).
#
#   push-filters.sh XFERD XFERCTL
set -euo pipefail
# shellcheck source=tests/e2e/lib/pair.sh
. "$(dirname "$0")/../lib/pair.sh"
pair_init e2e-push-filters "${1:?usage: push-filters.sh XFERD XFERCTL}" "${2:?}"
src=$PAIR_DIR/src

# A tree with build output, caches, tricky names, symlinks and an empty directory.
mkdir -p "$src"/{a/b/c,build/obj,cache,docs/.git,"sp ace",-dash,"br[a]ck",empty,ünï/sub}
for f in a/x.c a/x.o a/b/y.c a/b/c/z.o a/b/c/keep.o build/obj/m.o build/log docs/README \
	docs/.git/HEAD "sp ace/f 1.txt" -dash/-f "br[a]ck/[x]" ünï/ö.c ünï/sub/deep.txt top.c \
	top.h core; do
	printf '%s\n' "$f" >"$src/$f"
done
head -c 300000 /dev/urandom >"$src/a/big.bin"
ln -s a/x.c "$src/link-to-x"
ln -s nowhere "$src/cache/dangling"
chmod 0640 "$src/a/x.c"
touch -d '2011-11-11 11:11:11' "$src/a/x.c" "$src/a" "$src"
printf '# build output\r\n; and caches\n\n+ /a/b/c/keep.o\n*.o\r\ncache/\n' >"$PAIR_DIR/rules"

# push_like_rsync NAME RULE...: push with the rules, make rsync's copy with the same
# rules, and compare.
push_like_rsync() {
	local name=$1
	shift
	pair_push "$src" "$name" "$@" >/dev/null || pair_fail "push $name ($*): exit $?"
	pair_expect_field state "done"
	pair_expect_field files_failed 0
	rsync -a "$@" -- "$src/" "$PAIR_DIR/ref-$name/" ||
		pair_fail "rsync -a $* failed"
	diff -r --no-dereference "$PAIR_DIR/ref-$name" "$PAIR_VOL_B/$name" >&2 ||
		pair_fail "push $name ($*): the destination differs from rsync's copy"
	pair_verify "$PAIR_DIR/ref-$name" "$PAIR_VOL_B/$name"
}

pair_start

# Every option at once, in an order where it matters: the include of keep.o comes before
# the *.o exclude in the file, the --include of build/log before the --exclude of build.
push_like_rsync mixed --exclude-from "$PAIR_DIR/rules" --include 'build/log' \
	--include 'build/' --exclude 'build/*' --filter '- .git/' --filter 'exclude_*.h' \
	--exclude '/core' --exclude 'br\[a\]ck/\[x\]' --exclude 'ünï/**/deep.txt' \
	--exclude 'sp ace/'
# Filtered out: a/x.o, a/b/c/z.o, cache/, build/obj/, docs/.git/, top.h, core, br[a]ck/[x],
# ünï/sub/deep.txt, sp ace/ (a directory counts once).
pair_expect_field files_filtered 10
[ -e "$PAIR_VOL_B/mixed/a/b/c/keep.o" ] || pair_fail "keep.o: included before *.o, not sent"
[ ! -e "$PAIR_VOL_B/mixed/cache" ] || pair_fail "cache/ was excluded, but it arrived"

# Only *.c files and the directories on their way: rsync's classic include/exclude trio.
push_like_rsync onlyc --include '*/' --include '*.c' --exclude '*'

# A filter that excludes everything: nothing is sent, the destination exists, empty.
push_like_rsync nothing --exclude '**'
pair_expect_field files_sent 0
[ -z "$(ls -A "$PAIR_VOL_B/nothing")" ] || pair_fail "exclude '**' sent: $(ls -A "$PAIR_VOL_B/nothing")"
nentries=$(find "$src" -mindepth 1 -maxdepth 1 | wc -l)
pair_expect_field files_filtered "$nentries"

# No filter: nothing filtered, the whole tree.
pair_push "$src" whole >/dev/null || pair_fail "push without filters: exit $?"
pair_expect_field files_filtered 0
pair_verify "$src" "$PAIR_VOL_B/whole"

# xferctl refuses a bad rule before asking the daemon, naming it and the reason.
rc=0
err=$(pair_ctl a push "$src" b:bad --filter '-/ x' 2>&1) || rc=$?
[ "$rc" -eq 2 ] || pair_fail "bad --filter: exit $rc, want 2"
case $err in *"--filter '-/ x': modifier '/' (absolute path) is not supported"*) ;;
*) pair_fail "bad --filter: '$err'" ;;
esac
rc=0
err=$(pair_ctl a push "$src" b:bad --exclude-from <(printf 'ok\n[x\n') 2>&1) || rc=$?
[ "$rc" -eq 2 ] || pair_fail "bad --exclude-from: exit $rc, want 2"
case $err in *"line 2: unterminated '['"*) ;; *) pair_fail "bad --exclude-from: '$err'" ;; esac

# The daemon parses the rules again: a request past xferctl is refused the same way, and
# counted. Oversized lists are refused before any rule is parsed.
raw_push() {
	python3 - "$PAIR_DIR/a.sock" "$src" "$1" <<'EOF'
import json, socket, sys
path, src, filters = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
req = {"v": 1, "id": 1, "cmd": "push",
       "args": {"src": src, "peer": "b", "dest": "raw", "filters": filters}}
s.sendall(json.dumps(req).encode() + b"\n")
buf = b""
while not buf.endswith(b"\n"):
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
r = json.loads(buf)
print(r["error"]["code"] + ": " + r["error"]["message"] if not r["ok"] else "ok")
EOF
}
before=$(pair_json a 'j["control"]["push_filters_refused"]' stats)
out=$(raw_push '["- ok", "-! x"]')
[ "$out" = "invalid_args: args.filters[1]: modifier '!' (negation) is not supported" ] ||
	pair_fail "raw bad rule: '$out'"
out=$(raw_push '["- ok", 7]')
[ "$out" = "invalid_args: args.filters[1]: not a string" ] || pair_fail "raw number: '$out'"
out=$(raw_push "$(python3 -c 'print(__import__("json").dumps(["- x"] * 1025))')")
case $out in "invalid_args: args.filters: expected an array of at most 1024 strings") ;;
*) pair_fail "raw 1025 rules: '$out'" ;;
esac
out=$(raw_push "$(python3 -c 'print(__import__("json").dumps(["- " + "p" * 1022] * 33))')")
case $out in "invalid_args: args.filters[32]: the rules together exceed 32768 bytes") ;;
*) pair_fail "raw 33 KiB of rules: '$out'" ;;
esac
after=$(pair_json a 'j["control"]["push_filters_refused"]' stats)
[ "$after" -eq $((before + 4)) ] ||
	pair_fail "push_filters_refused went from $before to $after, want +4"
[ ! -e "$PAIR_VOL_B/raw" ] || pair_fail "a refused push created its destination"

pair_pass
