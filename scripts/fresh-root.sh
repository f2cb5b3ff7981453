#!/usr/bin/env bash
# Run the README's two commands (scripts/demo.sh, then scripts/test-all.sh) in a fresh
# Debian 12 root, so that nothing passes because of what this machine has installed or
# left in /tmp. .ci/run calls this; anyone can run it by hand, as root:
#
#   scripts/fresh-root.sh                    demo.sh and test-all.sh on the HEAD commit
#   scripts/fresh-root.sh -- CMD...          another command, run in /src/xferd in the root
#   scripts/fresh-root.sh --keep ...         leave the root in place afterwards (its path
#                                            is printed; remove it with --remove DIR)
#   scripts/fresh-root.sh --remove DIR       unmount what is left under DIR, then delete it
#
# How:
# - The base is mmdebstrap's `apt` variant of bookworm (the Essential packages and apt:
#   about what a Debian 12 container starts with), from the mirrors this machine's apt
#   sources name. It is cached as a tarball in $XF_FRESH_CACHE (default
#   /var/cache/xferd-fresh-root) and rebuilt when older than 7 days, so security updates
#   come in. Every run unpacks a new root from it.
# - Downloaded .deb files are kept in the cache too (bind-mounted on the root's
#   /var/cache/apt/archives): a run still installs every package, but downloads it once.
#   Runs take the cache's lock, so two at once run one after the other.
# - The commit under test (HEAD of this checkout) is cloned into /src/xferd in the root.
# - Everything runs in a private mount namespace (unshare). The root is bind-mounted onto
#   itself first (`ip netns exec` remounts / and fails unless / is a mount point), then
#   /dev, /proc, /sys, /sys/fs/cgroup, /dev/shm and /run are bind-mounted into it. The
#   cgroup file system is a mount of its own under /sys, which a bind of /sys leaves out;
#   systemd-nspawn needs it to boot systemd (e2e-nspawn-boot: "Failed to determine
#   whether the unified cgroups hierarchy is used").
# - On the way out every mount under the root is taken down, and the root is deleted only
#   after /proc/self/mountinfo shows nothing mounted under it (an rm -rf over a live bind
#   mount of /dev or /run would delete the host's files). rm also stays on one file system.
set -euo pipefail

cache=${XF_FRESH_CACHE:-/var/cache/xferd-fresh-root}
max_age_days=7
top=$(cd "$(dirname "$0")/.." && pwd)

say() { printf 'fresh-root: %s\n' "$*" >&2; }
die() {
	say "$*"
	exit 1
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }'; }

# Mount points at or under DIR in this mount namespace, deepest first.
mounts_under() {
	awk -v d="$1" '{ p = $5; gsub(/\\040/, " ", p); if (p == d || index(p, d "/") == 1) print p }' \
		/proc/self/mountinfo | sort -r
}

# Unmount everything under DIR, then delete it, but only once nothing is mounted there.
remove_root() {
	local root=$1 m
	[ -d "$root" ] || return 0
	case $root in
	/ | /dev* | /proc* | /sys* | /run* | /usr* | /etc* | /var | /var/cache* | /home*)
		die "refusing to remove $root"
		;;
	esac
	while IFS= read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m" || true
	done < <(mounts_under "$root")
	if [ -n "$(mounts_under "$root")" ]; then
		say "still mounted under $root, NOT removing it:"
		mounts_under "$root" >&2
		return 1
	fi
	rm -rf --one-file-system "$root"
}

# "deb URI SUITE main" for bookworm, bookworm-updates and bookworm-security, read from this
# machine's apt sources (one-line and deb822 formats), Debian's own mirror if none is named.
host_mirrors() {
	python3 - /etc/apt/sources.list /etc/apt/sources.list.d/* <<-'EOF'
		import re, sys
		found = []
		def add(uri, suite):
		    if "debian" in uri and suite.startswith("bookworm"):
		        line = f"deb {uri.rstrip('/')} {suite} main"
		        if line not in found:
		            found.append(line)
		for path in sys.argv[1:]:
		    try:
		        text = open(path).read()
		    except OSError:
		        continue
		    if path.endswith(".sources"):
		        for stanza in re.split(r"\n\s*\n", text):
		            f = {}
		            for line in stanza.splitlines():
		                if ":" in line and not line.startswith("#"):
		                    k, v = line.split(":", 1)
		                    f[k.strip().lower()] = v.split()
		            if "deb" in f.get("types", []):
		                for uri in f.get("uris", []):
		                    for suite in f.get("suites", []):
		                        add(uri, suite)
		    else:
		        for line in text.splitlines():
		            w = re.sub(r"\[[^]]*\]", "", line).split()
		            if len(w) >= 3 and w[0] == "deb":
		                add(w[1], w[2])
		if not found:
		    found = ["deb http://deb.debian.org/debian bookworm main",
		             "deb http://deb.debian.org/debian bookworm-updates main",
		             "deb http://deb.debian.org/debian-security bookworm-security main"]
		print("\n".join(found))
	EOF
}

# The cached base tarball, built first if missing or too old.
base_tarball() {
	local mirrors key tar tmp t0
	mapfile -t mirrors < <(host_mirrors)
	key=$(printf '%s\n' apt "${mirrors[@]}" | sha256sum | cut -c1-12)
	tar=$cache/bookworm-apt-$key.tar
	if [ -f "$tar" ] && [ -z "$(find "$tar" -mtime +$max_age_days)" ]; then
		say "base: $tar (cached)"
		echo "$tar"
		return
	fi
	if ! command -v mmdebstrap >/dev/null; then
		say "installing mmdebstrap on this host"
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null
	fi
	say "base: building $tar from: ${mirrors[*]}"
	t0=$(now)
	tmp=$tar.part
	rm -f "$tmp"
	mmdebstrap --quiet --variant=apt --format=tar bookworm "$tmp" "${mirrors[@]}" >&2
	mv "$tmp" "$tar"
	find "$cache" -maxdepth 1 -name 'bookworm-apt-*.tar' ! -name "${tar##*/}" -delete
	say "base: built in $(elapsed "$t0") s"
	echo "$tar"
}

# Inside the private mount namespace: mount, run, unmount. Prints nothing of its own.
inner() {
	local root=$1
	shift
	local rc=0 d
	mount --bind "$root" "$root"
	for d in dev proc sys dev/shm run; do
		mkdir -p "$root/$d"
		mount --bind "/$d" "$root/$d"
	done
	# With its controllers' own mounts beneath it (cgroup v1 or hybrid): --rbind.
	if mountpoint -q /sys/fs/cgroup; then
		mount --rbind /sys/fs/cgroup "$root/sys/fs/cgroup"
	fi
	mkdir -p "$cache/archives/partial" "$root/var/cache/apt/archives"
	mount --bind "$cache/archives" "$root/var/cache/apt/archives"
	chroot "$root" /usr/bin/env -i \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C.UTF-8 TERM=dumb CI="${CI:-}" \
		${XF_FUZZ_SECONDS:+XF_FUZZ_SECONDS=$XF_FUZZ_SECONDS} \
		/bin/bash -c 'cd /src/xferd && exec "$@"' bash "$@" || rc=$?
	remove_mounts_only "$root"
	return $rc
}

remove_mounts_only() {
	local m
	while IFS= read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m" || true
	done < <(mounts_under "$1")
}

root=
main() {
	local keep= rc=0 t0 t_all tar head
	[ "$(id -u)" -eq 0 ] || die "must run as root (chroot, mounts, network namespaces)"
	while [ $# -gt 0 ]; do
		case $1 in
		--keep) keep=1 ;;
		--remove)
			remove_root "${2:?--remove DIR}"
			exit
			;;
		--inner)
			shift
			inner "$@"
			exit
			;;
		--) shift; break ;;
		*) die "unknown argument '$1' (see the comment at the top of $0)" ;;
		esac
		shift
	done
	[ $# -gt 0 ] || set -- bash -c 'scripts/demo.sh && scripts/test-all.sh'
	for c in unshare chroot mount umount flock git tar python3; do
		command -v "$c" >/dev/null || die "this host needs '$c'"
	done
	t_all=$(now)
	mkdir -p "$cache"
	# Runs share the cache's .deb files, and apt in one root would find the archives
	# locked by the other's: one run at a time, the next one waits (and says so).
	exec 9>"$cache/lock"
	if ! flock -n 9; then
		say "another fresh-root run holds $cache/lock: waiting for it"
		flock 9
	fi
	tar=$(base_tarball)

	t0=$(now)
	root=$(mktemp -d /var/tmp/xferd-root.XXXXXX)
	if [ -z "$keep" ]; then
		trap 'remove_root "$root" || say "left $root in place"' EXIT
	fi
	tar -xf "$tar" -C "$root"
	cp /etc/resolv.conf "$root/etc/resolv.conf"
	head=$(git -C "$top" rev-parse HEAD)
	if [ -n "$(git -C "$top" status --porcelain --untracked-files=no)" ]; then
		say "note: $top has uncommitted changes; the root gets commit ${head:0:12} only"
	fi
	git clone -q --no-hardlinks "$top" "$root/src/xferd"
	git -C "$root/src/xferd" checkout -q --detach "$head"
	say "root: $root, commit ${head:0:12}, ready in $(elapsed "$t0") s"

	t0=$(now)
	say "running in the root: $*"
	unshare --mount --propagation private -- "$0" --inner "$root" "$@" || rc=$?
	say "command exited $rc after $(elapsed "$t0") s (total $(elapsed "$t_all") s)"
	if [ -n "$(mounts_under "$root")" ]; then
		say "mounts left under $root after the run:"
		mounts_under "$root" >&2
		rc=1
	fi
	[ -n "$keep" ] && say "kept $root (scripts/fresh-root.sh --remove $root)"
	return $rc
}

main "$@"
