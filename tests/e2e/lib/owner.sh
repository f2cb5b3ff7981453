# SPDX-License-Identifier: BSD-3-Clause
# The source tree of the e2e tests of owners and groups (push-owner.sh,
# push-pull-owner.sh); sourced after pair.sh. Root only (chown).

# owner_tree DIR: files, directories, symlinks and a set-user-ID file of various owners
# and groups (9 entries with DIR itself), every mtime a whole second (rsync -i compares
# seconds here, xferd nanoseconds).
owner_tree() {
	local s=$1 f
	mkdir -p "$s"/d/e
	for f in a suid d/b d/e/c; do echo "$f" >"$s/$f"; done
	ln -s a "$s/l"
	ln -s ../a "$s/d/l2"
	chown 3000:3001 "$s"
	chown 1234:5678 "$s/a"
	chown 1234:0 "$s/suid"
	chmod 4755 "$s/suid" # after the chown, which clears it
	chown 4321:100 "$s/d"
	chown 0:5678 "$s/d/b"
	chown 65534:65534 "$s/d/e" "$s/d/e/c"
	chown -h 2222:3333 "$s/l"
	chown -h 7:7 "$s/d/l2"
	find "$s" -exec touch -h -d @1600000000 {} +
}

# listing DIR: path, type, owner, group, mode of every entry (symlinks' own), sorted.
listing() { (cd "$1" && find . -printf '%P %y %U %G %m\n' | LC_ALL=C sort); }
# column DIR FMT: one find -printf column of every entry but DIR itself, sorted.
column() { (cd "$1" && find . -mindepth 1 -printf "%P $2\n" | LC_ALL=C sort); }
