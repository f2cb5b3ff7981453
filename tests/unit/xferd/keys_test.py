#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""xferd keygen FILE and xferd pubkey -c FILE (docs/SECURITY.md section 6): the file is
new, mode 0600, base64 of 32 bytes; the printed public key is the X25519 public key of
that private key, computed here independently with python3-cryptography; an existing
file is never overwritten; pubkey refuses files other users could read, symlinks and
malformed files, and never prints the private key.

usage: keys_test.py XFERD SOURCE_ROOT"""
import base64
import os
import shutil
import stat
import sys
import tempfile

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

# The same command line (XFERD SOURCE_ROOT) and helpers as the --check tests.
import cli_test
from cli_test import ROOT, check, overrides_for, run

DEV = os.path.join(ROOT, "config", "dev", "a.yaml")


def pub_of(priv):
    return base64.b64encode(X25519PrivateKey.from_private_bytes(priv).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)).decode()


SETS = []  # --set options that make DEV's volume paths exist here (overrides_for)


def pubkey(path):
    return run("pubkey", "-c", DEV, *SETS, "--set", f"session.private_key_file={path}")


def main():
    t = tempfile.mkdtemp(prefix="xf-keys-")
    try:
        SETS.extend(overrides_for(DEV, t))
        key = os.path.join(t, "appliance.key")
        r = run("keygen", key)
        check(r.returncode == 0, f"keygen: exit {r.returncode} {r.stderr}")
        st = os.lstat(key)
        check(stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600,
              f"key file is a regular file of mode 0600 ({oct(st.st_mode)})")
        text = open(key).read()
        priv = base64.b64decode(text.strip(), validate=True)
        check(len(priv) == 32 and text.endswith("\n"), "key file: base64 of 32 bytes, newline")
        printed = r.stdout.strip()
        check(printed == pub_of(priv), f"printed public key {printed} is the file's")
        check(text.strip() not in r.stdout + r.stderr, "keygen does not print the private key")

        r2 = run("keygen", key)
        check(r2.returncode == 1 and open(key).read() == text,
              f"keygen refuses an existing file and leaves it alone: {r2.stderr.strip()}")
        check(run("keygen").returncode == 2, "keygen without FILE: usage error")

        r = pubkey(key)
        check(r.returncode == 0 and r.stdout.strip() == printed,
              f"pubkey prints the same public key: {r.stdout.strip()} {r.stderr}")
        check(text.strip() not in r.stdout + r.stderr, "pubkey does not print the private key")

        os.chmod(key, 0o640)
        r = pubkey(key)
        check(r.returncode == 1 and "refused" in r.stderr, f"mode 0640 refused: {r.stderr.strip()}")
        os.chmod(key, 0o600)
        link = os.path.join(t, "link.key")
        os.symlink(key, link)
        r = pubkey(link)
        check(r.returncode == 1 and r.stdout == "", f"a symlink is refused: {r.stderr.strip()}")
        bad = os.path.join(t, "bad.key")
        with open(bad, "w") as f:
            f.write("not a key\n")
        os.chmod(bad, 0o600)
        r = pubkey(bad)
        check(r.returncode == 1 and "not a key file" in r.stderr, f"malformed: {r.stderr.strip()}")
        r = run("pubkey", "-c", DEV, *SETS)
        check(r.returncode == 1 and "private_key_file is not set" in r.stderr,
              f"unset key file: {r.stderr.strip()}")
        # peers[].public_key takes what keygen printed, and nothing malformed.
        r = run("--check", "-c", DEV, *SETS, "--set", f"peers[0].public_key={printed}")
        check(r.returncode == 0, f"peers[0].public_key={printed}: {r.stderr.strip()}")
        for bad_key in (printed[:-1], printed[:-2] + "==", printed[:10] + "." + printed[11:],
                        printed[:42] + "B="):
            r = run("--check", "-c", DEV, *SETS, "--set", f"peers[0].public_key={bad_key}")
            check(r.returncode == 1 and "is not a key" in r.stderr,
                  f"peers[0].public_key={bad_key} refused: {r.stderr.strip()[:80]}")
        d = run("--dump-config", "-c", DEV, *SETS, "--set", f"session.private_key_file={key}")
        check(d.returncode == 0 and key in d.stdout and text.strip() not in d.stdout,
              "--dump-config shows the key file's path, never its content")
    finally:
        shutil.rmtree(t)
    sys.exit(1 if cli_test.failures else 0)


if __name__ == "__main__":
    main()
