#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The systemd unit as an operator starts it: systemd-nspawn boots systemd (this
# machine's own /usr, read-only, over an empty volatile root), with the built
# xferd.service as /etc/systemd/system/xferd.service, xferd and xferctl in
# /usr/local/bin (the unit's paths), and the example configuration as
# /etc/xferd/xferd.yaml with a net_null port and no hugepages (no NIC here). A unit in the
# container then runs `systemctl start xferd` and checks: active (running) once
# READY=1 came (Type=notify), `xferctl status` answers on the default socket, the
# hardening of the unit in effect (capability bounding set, NoNewPrivileges,
# ProtectSystem, its volume writable), `systemctl reload` (--check, then SIGHUP)
# keeps it running and the reload is applied, the journal holds its messages with
# structured fields, and `systemctl stop` ends it cleanly (inactive, exit 0). Then it
# powers the container off.
#
#   nspawn-boot.sh XFERD XFERCTL UNIT EXAMPLE_YAML
# Exits 77 only when this machine cannot boot a container at all (not root, no
# systemd-nspawn, or systemd did not come up in it), saying why. The first boot's
# interactive wizard is off (systemd.firstboot=off): /etc starts empty.
set -euo pipefail
xferd=${1:?usage: nspawn-boot.sh XFERD XFERCTL UNIT EXAMPLE_YAML}
xferctl=${2:?}
unit=${3:?}
example=${4:?}
name=e2e-nspawn-boot
skip() {
	echo "$name: SKIP: $*" >&2
	exit 77
}
fail() {
	echo "$name: FAIL: $*" >&2
	[ -f "$T/boot.log" ] && tail -n 60 "$T/boot.log" | sed 's/\x1b\[[0-9;]*m//g' >&2
	[ -f "$T/res/log" ] && cat "$T/res/log" >&2
	exit 1
}
[ "$(id -u)" -eq 0 ] || skip "booting a container needs root"
command -v systemd-nspawn >/dev/null || skip "needs systemd-nspawn (Debian package systemd-container)"
[ -x /usr/lib/systemd/systemd ] || skip "no /usr/lib/systemd/systemd to boot"
T=$(mktemp -d -t xf-nspawn.XXXXXX)
machine="xfns$$"
trap 'rm -rf "$T"' EXIT

mkdir -p "$T/bin" "$T/etc-xferd" "$T/units" "$T/wants" "$T/res"
cp "$xferd" "$xferctl" "$T/bin/"
cp "$unit" "$T/units/xferd.service"
# The example, made to run without a NIC or hugepages.
sed -e 's|^\(\s*device:\).*|\1 "net_null0"|' -e 's|^\(\s*hugepages:\).*|\1 false|' \
	-e 's|^\(\s*memory_mb:\).*|\1 256|' "$example" >"$T/etc-xferd/xferd.yaml"
grep -q 'net_null0' "$T/etc-xferd/xferd.yaml" || fail "could not adapt $example"

cat >"$T/res/run.sh" <<'EOS'
#!/bin/sh
# Runs in the container as xf-nspawn-test.service; every result line goes to /run/xfres/log.
exec >/run/xfres/log 2>&1
ok=1
check() { if eval "$2"; then echo "ok: $1"; else echo "NOT OK: $1"; ok=0; fi; }
systemctl start xferd.service
check "active (running) after start" '[ "$(systemctl show -P ActiveState xferd)" = active ] && [ "$(systemctl show -P SubState xferd)" = running ]'
check "Type=notify" '[ "$(systemctl show -P Type xferd)" = notify ]'
check "xferctl status on the default socket" 'xferctl status'
pid=$(systemctl show -P MainPID xferd)
check "NoNewPrivs in effect" 'grep -q "^NoNewPrivs:\s*1" /proc/$pid/status'
check "capability bounding set applied" '[ "$(grep ^CapBnd /proc/$pid/status | cut -f2)" != "$(grep ^CapBnd /proc/1/status | cut -f2)" ]'
# ProtectSystem=strict: /etc cannot be written in the service's view of the file system
# (EROFS), while its volume (StateDirectory=, ReadWritePaths=) can. nsenter -m alone is
# not that view: entering a mount namespace (setns) puts the caller at the namespace's
# root mount, and under a chroot (the CI's fresh root) nspawn and systemd stack the
# container's and the service's roots on the chroot's directory, not on that mount: the
# probe then ran on the host's own / (and left /etc/xf-probe there). -r takes the
# service's root (/proc/PID/root), -w its working directory.
in_svc() { nsenter -t "$pid" -m -r -w sh -c "$1" 2>&1; }
etc_probe=$(in_svc 'touch /etc/xf-probe && rm -f /etc/xf-probe && echo "/etc written"')
check "ProtectSystem=strict: /etc read-only for it ($etc_probe)" 'case $etc_probe in *"Read-only file system"*) true ;; *) false ;; esac'
check "its volume /var/lib/xferd writable for it" '[ "$(in_svc "touch /var/lib/xferd/.xf-probe && rm /var/lib/xferd/.xf-probe && echo written")" = written ]'
systemctl reload xferd.service
check "still running after reload" '[ "$(systemctl show -P SubState xferd)" = running ]'
# The reload is applied on SIGHUP, and the journal takes its line a moment later: 10 s.
applied() { for _ in $(seq 50); do journalctl -u xferd --no-pager | grep -q "applied 0 change" && return 0; sleep 0.2; done; return 1; }
check "the reload applied (journal)" applied
check "journal: messages with structured fields" 'journalctl -u xferd -o json --no-pager | grep -q "\"XFERD_MODULE\""'
systemctl stop xferd.service
check "inactive after stop, exit 0" '[ "$(systemctl show -P ActiveState xferd)" = inactive ] && [ "$(systemctl show -P ExecMainStatus xferd)" = 0 ]'
journalctl -u xferd --no-pager -o short | tail -n 20
[ "$ok" = 1 ] && echo PASS
systemctl poweroff --no-block
EOS
chmod +x "$T/res/run.sh"
cat >"$T/units/xf-nspawn-test.service" <<'EOS'
[Unit]
Description=xferd nspawn boot test
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/run/xfres/run.sh
EOS
ln -s /etc/systemd/system/xf-nspawn-test.service "$T/wants/xf-nspawn-test.service"

rc=0
timeout 120 systemd-nspawn --quiet --volatile=yes -D / --boot -M "$machine" --register=no \
	--keep-unit --bind-ro="$T/bin:/usr/local/bin" --bind-ro="$T/etc-xferd:/etc/xferd" \
	--bind-ro="$T/units/xferd.service:/etc/systemd/system/xferd.service" \
	--bind-ro="$T/units/xf-nspawn-test.service:/etc/systemd/system/xf-nspawn-test.service" \
	--bind-ro="$T/wants:/etc/systemd/system/multi-user.target.wants" \
	--bind="$T/res:/run/xfres" systemd.firstboot=off </dev/null >"$T/boot.log" 2>&1 || rc=$?
grep -q "Welcome to" "$T/boot.log" ||
	skip "systemd-nspawn could not boot systemd here (status $rc): $(head -n 5 "$T/boot.log")"
[ -f "$T/res/log" ] || fail "the test unit never ran in the container (nspawn status $rc)"
cat "$T/res/log"
grep -q '^PASS$' "$T/res/log" || fail "checks failed in the container"
echo "$name: PASS"
