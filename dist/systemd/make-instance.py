#!/usr/bin/env python3
"""Write xferd@.service, the unit of one instance per configuration file, from
xferd.service: the same service with /etc/xferd/%i.yaml for /etc/xferd/xferd.yaml. Made at
build time (meson), so that the two units cannot differ in anything else.

Usage: make-instance.py xferd.service xferd@.service
"""
import sys

HEAD = """\
# One xferd per configuration file: `systemctl start xferd@NAME` runs
# /etc/xferd/NAME.yaml (docs/OPERATIONS.md, "Under systemd"). Instances on one host
# need their own eal.file_prefix, control.socket, cores and ports (e.g. two dev
# appliances joined by net_memif, or one per NIC); each volume outside /var/lib/xferd
# needs a ReadWritePaths= line in a drop-in (systemctl edit xferd@NAME).
# Generated from xferd.service by make-instance.py; why each setting is there is said
# in xferd.service (/lib/systemd/system/xferd.service).
"""


def main():
    src, dst = sys.argv[1:3]
    with open(src, encoding="utf-8") as f:
        text = f.read()
    body = text[text.index("[Unit]"):]
    for old, new in (("/etc/xferd/xferd.yaml", "/etc/xferd/%i.yaml"),
                     ("(DPDK)", "%i (DPDK)")):
        if old not in body:
            sys.exit(f"make-instance: {src} has no '{old}'")
        body = body.replace(old, new)
    with open(dst, "w", encoding="utf-8") as f:
        f.write(HEAD + body)


if __name__ == "__main__":
    main()
