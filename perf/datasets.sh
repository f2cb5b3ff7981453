#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Generate the standard benchmark datasets (perf/README.md), seeded and
# reproducible, under OUTDIR (never inside the repository: they are not committed).
#
#   perf/datasets.sh [--quick] [--seed N] OUTDIR [large] [small] [mixed] [delta] [usr] [mirror]
#
#   large  256 files of 4 MiB random data (1 GiB)          OUTDIR/large
#   small  20,000 files of 4 KiB in 200 directories          OUTDIR/small
#   mixed  10,000 files shaped like a real tree: long-tailed files per directory
#          (median 6), depth up to 8, log-normal sizes (median 4 KiB, up to 64 MiB),
#          symlinks, empty directories, long and UTF-8 names (perf/gen_mixed.py)
#                                                            OUTDIR/mixed
#   usr    copies of /usr/include and /usr/lib/x86_64-linux-gnu (not with --quick: over
#          1 GB), made at run time              OUTDIR/usr-include, OUTDIR/usr-lib
#   delta  large with 4 runs of 100 bytes changed per file   OUTDIR/delta
#          (seeded offsets; mtimes set 1 s later than large's, as rsync sees an edit)
#   mirror small with 10% of its files removed and as many new ones added (seeded;
#          the rest hard links to small's)                   OUTDIR/mirror
#
# --quick makes CI-sized sets: large 16 x 4 MiB, small 1,000 x 4 KiB in 10 directories,
# mixed 1,000 files. No names given: large, small, mixed and delta (usr and mirror only by
# name).
# Content comes from AES-CTR keystreams (openssl enc of /dev/zero with a key derived from
# seed and file name), so a rerun gives the same bytes; mixed from perf/gen_mixed.py's
# seeded PRNG.
# Every file gets a fixed mtime (2024-01-01) so reruns also give the same metadata.
# Prints one line per dataset: name, files, bytes, path.
set -eu

quick=0
seed=1
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1; shift ;;
	--seed) seed=$2; shift 2 ;;
	-h|--help) sed -n '3,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	--) shift; break ;;
	-*) echo "datasets.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || { echo "usage: datasets.sh [--quick] [--seed N] OUTDIR [large|small|mixed|delta|usr|mirror]..." >&2; exit 2; }
out=$1
shift
sets=${*:-large small mixed delta}

if [ "$quick" = 1 ]; then
	large_files=16 small_files=1000 small_dirs=10 mixed_files=1000
else
	large_files=256 small_files=20000 small_dirs=200 mixed_files=10000
fi
FILE_MIB=4
SMALL_BYTES=4096
MTIME=202401010000.00        # touch -t format: fixed so reruns are identical
MTIME_DELTA=202401010000.01  # delta: one second later, so rsync's quick check sees it

# keystream NAME BYTES: BYTES pseudo-random bytes determined by seed and NAME.
keystream() {
	key=$(printf '%s/%s' "$seed" "$1" | sha256sum | cut -c1-64)
	head -c "$2" /dev/zero |
		openssl enc -aes-256-ctr -K "$key" -iv 00000000000000000000000000000000 2>/dev/null
}

report() { # NAME DIR
	n=$(find "$2" -type f | wc -l)
	b=$(find "$2" -type f -printf '%s\n' | awk '{s += $1} END {printf "%d", s}')
	printf '%-6s %8d files %14d bytes  %s\n' "$1" "$n" "$b" "$2"
}

gen_large() {
	d=$out/large
	rm -rf "$d" && mkdir -p "$d"
	i=0
	while [ $i -lt $large_files ]; do
		f=$(printf 'f%03d.bin' $i)
		keystream "large/$f" $((FILE_MIB * 1048576)) >"$d/$f"
		i=$((i + 1))
	done
	find "$d" -exec touch -h -t $MTIME {} +
	report large "$d"
}

# One keystream, cut into 4 KiB files by a single python process (20,000 forks of openssl
# would take far longer than the bytes do).
gen_small() {
	d=$out/small
	rm -rf "$d" && mkdir -p "$d"
	keystream small $((small_files * SMALL_BYTES)) | python3 -c '
import os, sys
d, n, ndirs, sz = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
per = n // ndirs
src = sys.stdin.buffer
for k in range(ndirs):
    sub = os.path.join(d, "d%03d" % k)
    os.mkdir(sub)
    for j in range(per):
        with open(os.path.join(sub, "f%05d" % j), "wb") as f:
            f.write(src.read(sz))
' "$d" "$small_files" "$small_dirs" "$SMALL_BYTES"
	find "$d" -exec touch -h -t $MTIME {} +
	report small "$d"
}

# mixed = a seeded tree with the shape of real ones (perf/gen_mixed.py says which).
gen_mixed() {
	d=$out/mixed
	rm -rf "$d"
	python3 "$(dirname "$0")/gen_mixed.py" --seed "$seed" --files "$mixed_files" "$d" >/dev/null
	report mixed "$d"
}

# usr = copies of this machine's /usr/include and /usr/lib/x86_64-linux-gnu, made now:
# real trees that nobody here wrote (what is in them depends on the installed packages,
# so report prints their size). Symlinks are kept as symlinks.
gen_usr() {
	for s in include $([ "$quick" = 1 ] || echo lib/x86_64-linux-gnu); do
		d=$out/usr-${s%%/*}
		rm -rf "$d"
		cp -a "/usr/$s" "$d"
		report "usr-${s%%/*}" "$d"
	done
}

# delta = large with 4 runs of 100 bytes overwritten per file, at offsets drawn from a
# PRNG seeded by (seed, file name). Needs OUTDIR/large (made first if missing).
gen_delta() {
	[ -d "$out/large" ] || gen_large >/dev/null
	d=$out/delta
	rm -rf "$d"
	cp -a "$out/large" "$d"
	python3 -c '
import os, random, sys
d, seed = sys.argv[1], sys.argv[2]
for name in sorted(os.listdir(d)):
    p = os.path.join(d, name)
    size = os.path.getsize(p)
    rng = random.Random("%s/delta/%s" % (seed, name))
    with open(p, "r+b") as f:
        for _ in range(4):
            off = rng.randrange(0, max(1, size - 100))
            f.seek(off)
            f.write(rng.randbytes(100))
' "$d" "$seed"
	find "$d" -exec touch -h -t $MTIME_DELTA {} +
	report delta "$d"
}

# mirror = small with 10% of its files removed and as many new 4 KiB files added beside
# them (the choice seeded by (seed, "mirror")), for a re-push with --delete on top of
# small. Unchanged files are hard links to small's: the same names, bytes and mtimes.
# Needs OUTDIR/small (made first if missing).
gen_mirror() {
	[ -d "$out/small" ] || gen_small >/dev/null
	d=$out/mirror
	rm -rf "$d"
	cp -al "$out/small" "$d"
	python3 -c '
import os, random, sys
d, seed, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = random.Random("%s/mirror" % seed)
files = sorted(os.path.join(r, f) for r, _, fs in os.walk(d) for f in fs)
gone = rng.sample(files, len(files) // 10)
for p in gone:
    os.unlink(p)
for i, p in enumerate(gone):
    with open(os.path.join(os.path.dirname(p), "new%05d" % i), "wb") as f:
        f.write(rng.randbytes(size))
' "$d" "$seed" "$SMALL_BYTES"
	find "$d" -name 'new*' -exec touch -h -t $MTIME {} +
	report mirror "$d"
}

mkdir -p "$out"
for s in $sets; do
	case "$s" in
	large) gen_large ;;
	usr) gen_usr ;;
	small) gen_small ;;
	mixed) gen_mixed ;;
	delta) gen_delta ;;
	mirror) gen_mirror ;;
	*) echo "datasets.sh: unknown dataset $s" >&2; exit 2 ;;
	esac
done
