# SPDX-License-Identifier: BSD-3-Clause
# Helpers of the e2e tests that compare xferd's itemized changes with rsync's (push-itemize.sh,
# push-types.sh); sourced after pair.sh.

# snapshot: everything of B's volume an xferd write could change.
snapshot() {
	(cd "$PAIR_VOL_B" && find . -path ./.xferd -prune -o -printf '%p %y %m %s %T@ %l\n' |
		LC_ALL=C sort && find . -path ./.xferd -prune -o -type f -exec md5sum {} + |
		LC_ALL=C sort && find .xferd -mindepth 1 -printf 'staging: %p\n' |
		{ grep -v '^staging: \.xferd/tmp$' || true; })
}
compare() {
	local what=$1 want=$2 got=$3
	if [ "$want" != "$got" ]; then
		diff <(echo "$want") <(echo "$got") >&2 || true
		pair_fail "$what: xferd's itemized lines (>) differ from rsync's (<)"
	fi
}
