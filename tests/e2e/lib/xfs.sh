# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
# Sourced by tests and benchmarks that put volumes on XFS, the appliance's file system:
# an XFS (reflink=1) on a loop device over a sparse image in /dev/shm, so that real
# file-system costs count and disk noise does not. Needs root, losetup and mkfs.xfs
# (xfsprogs, scripts/install-deps.sh); anything missing is an error, never a skip.
#
#   . tests/e2e/lib/xfs.sh
#   xfs_mount DIR SIZE_MB     # a fresh XFS of SIZE_MB (at least 300) mounted on DIR
#   xfs_mount DIR SIZE_MB ext4  # the same with ext4 (mkfs.ext4: e2fsprogs), the file
#                             # system without clones that tests compare XFS with
#   xfs_cleanup               # unmount and detach everything xfs_mount made (idempotent)
#
# How it is cleaned: the caller's EXIT trap calls xfs_cleanup once the processes that
# have files open on the mounts are stopped (tests/e2e/lib/pair.sh and
# perf/transfer/run.sh do); xfs_mount turns HUP, INT and TERM into an exit so that trap
# runs on those too (a TERM from meson's timeout as well). xfs_cleanup unmounts each
# mount, retrying a busy one for at most XFS_UMOUNT_TIMEOUT seconds and then detaching it
# lazily, and detaches its loop device. The image file is unlinked as soon as the loop
# device holds it, and the loop device is set to clear itself on its last unmount
# (losetup -d of a mounted device), so even a lazy unmount leaves no device, file or
# memory behind once the last user is gone. Only SIGKILL of the shell can leave a mount.

: "${XFS_UMOUNT_TIMEOUT:=10}" # seconds a busy mount is retried before a lazy unmount

XFS_MOUNTS=() # mount points, in the order they were made
XFS_LOOPS=()  # their loop devices
XFS_IMGS=()   # and the (unlinked) image files behind them

# xfs_die MSG: print and exit 1 (the caller's EXIT trap cleans up what was made).
xfs_die() {
	echo "xfs.sh: FAIL: $*" >&2
	exit 1
}

# xfs_mount DIR SIZE_MB [FS]: make an XFS (or FS: ext4) of SIZE_MB MiB and mount it on
# DIR (created if missing, must be empty). mkfs.xfs refuses file systems under 300 MiB;
# the image is sparse, so only what is written takes memory.
xfs_mount() {
	local dir=${1:?xfs_mount DIR SIZE_MB} size=${2:?xfs_mount DIR SIZE_MB} fs=${3:-xfs} img dev t i
	case $size in '' | *[!0-9]*) xfs_die "size '$size' is not a number of MiB" ;; esac
	[ "$size" -ge 300 ] || xfs_die "XFS needs at least 300 MiB, not $size"
	[ "$(id -u)" -eq 0 ] || xfs_die "an XFS loop mount needs root"
	case $fs in xfs | ext4) ;; *) xfs_die "file system '$fs': only xfs and ext4" ;; esac
	for t in losetup "mkfs.$fs" mount umount timeout; do
		command -v "$t" >/dev/null || xfs_die "needs $t (xfsprogs, mount: scripts/install-deps.sh)"
	done
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
	mkdir -p "$dir"
	[ -z "$(ls -A "$dir")" ] || xfs_die "$dir is not empty"
	img=$(mktemp /dev/shm/xf-xfs.XXXXXX) || xfs_die "mktemp in /dev/shm failed"
	# Recorded before each step, so that an exit at any point undoes what was done.
	i=${#XFS_IMGS[@]}
	XFS_IMGS[i]=$img XFS_LOOPS[i]='' XFS_MOUNTS[i]=''
	truncate -s "${size}M" "$img" || xfs_die "cannot make a $size MiB image in /dev/shm"
	if [ "$fs" = ext4 ]; then
		timeout 60 mkfs.ext4 -q -F "$img" >&2 || xfs_die "mkfs.ext4 of $img failed"
	else
		timeout 60 mkfs.xfs -q -m reflink=1 "$img" >&2 || xfs_die "mkfs.xfs of $img failed"
	fi
	dev=$(timeout 30 losetup --find --show "$img") || xfs_die "no loop device for $img"
	XFS_LOOPS[i]=$dev
	# The loop device holds the file open: its name is no longer needed.
	rm -f "$img"
	timeout 30 mount -t "$fs" "$dev" "$dir" || xfs_die "mount $dev on $dir failed"
	XFS_MOUNTS[i]=$dir
	# Autoclear: the device goes away by itself with the last unmount.
	losetup -d "$dev" 2>/dev/null || true
	case $(stat -f -c %T "$dir") in
	xfs | ext2/ext3) ;; # stat names ext4 so
	*) xfs_die "$dir is not $fs after mounting" ;;
	esac
}

# xfs_drop_own_fds DIR: point this shell's descriptors that hold a file under DIR at
# /dev/null. An EXIT trap that runs while a redirection is in force (a signal taken
# during `f >"$DIR/out"`) still has that file open, and the mount would stay busy.
xfs_drop_own_fds() {
	local f fd
	for f in "/proc/$BASHPID/fd/"*; do
		fd=${f##*/}
		case $(readlink "$f" 2>/dev/null) in
		"$1"/*) eval "exec $fd>/dev/null" ;;
		esac
	done
}

# xfs_holders DIR: "pid comm" of each process with a file under DIR open (a diagnostic).
xfs_holders() {
	local p
	for p in $(find /proc/[0-9]*/fd -maxdepth 1 -lname "$1/*" 2>/dev/null | cut -d/ -f3 | sort -u); do
		echo "  $p $(cat "/proc/$p/comm" 2>/dev/null)"
	done
}

# xfs_cleanup: undo every xfs_mount, last first; bounded, never fails.
xfs_cleanup() {
	local i dir dev deadline
	for ((i = ${#XFS_IMGS[@]} - 1; i >= 0; i--)); do
		dir=${XFS_MOUNTS[i]} dev=${XFS_LOOPS[i]}
		if [ -n "$dir" ] && mountpoint -q "$dir"; then
			xfs_drop_own_fds "$dir"
			deadline=$((SECONDS + XFS_UMOUNT_TIMEOUT))
			until timeout 10 umount "$dir" 2>/dev/null; do
				if [ "$SECONDS" -ge "$deadline" ]; then
					echo "xfs.sh: $dir still busy after ${XFS_UMOUNT_TIMEOUT}s, detached lazily; in use by:" >&2
					xfs_holders "$dir" >&2
					umount -l "$dir" 2>/dev/null || true
					break
				fi
				sleep 0.1
			done
		fi
		# Usually gone already (autoclear). Detached only while it still holds our image:
		# once cleared, the device may be someone else's.
		if [ -n "$dev" ]; then
			case $(timeout 10 losetup -n -O BACK-FILE "$dev" 2>/dev/null) in
			"${XFS_IMGS[i]}"*) timeout 10 losetup -d "$dev" 2>/dev/null || true ;;
			esac
		fi
		rm -f "${XFS_IMGS[i]}"
	done
	XFS_MOUNTS=()
	XFS_LOOPS=()
	XFS_IMGS=()
}
