#!/usr/bin/env python3
"""Generate the man pages xferd(8), xferctl(8) and xferd.yaml(5) in docs/man/.

Each page is a hand-written template (docs/man/NAME.in, roff) whose generated parts come
from the same source as what the programs and docs/CONFIG.md say, so that they cannot
drift apart:

  @XFERD_SYNOPSIS@, @XFERD_OPTIONS@       the output of `xferd --help`
  @XFERCTL_SYNOPSIS@, @XFERCTL_OPTIONS@   the output of `xferctl --help`
  @CONFIG_EXAMPLE@                        the YAML block under "## Example" in docs/CONFIG.md
  @CONFIG_KEYS@                           the key table of docs/CONFIG.md, which the unit
                                          test unit-config keeps equal to the schema table
                                          (control/config/xf_config_schema.c)
  @VERSION@                               the project version (meson.build)

The pages are committed (a clone has them, the package build needs no generator run);
the unit test `man-pages` runs this with --check and fails when a committed page differs
from what the programs and docs say now.

Usage: gen-man.py --xferd BIN --xferctl BIN --version V [--check] SRCDIR
       SRCDIR is the repository; pages are read from and written to SRCDIR/docs/man.
"""
import argparse
import os
import re
import subprocess
import sys

PAGES = ("xferd.8", "xferctl.8", "xferd.yaml.5")


def roff_escape(text):
    """Text as roff shows it literally: backslashes, minus signs, and a control character
    ('.' or "'") at the start of a line."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    lines = []
    for line in text.split("\n"):
        if line.startswith((".", "'")):
            line = "\\&" + line
        lines.append(line)
    return "\n".join(lines)


def verbatim(text):
    """A block shown as it is (no filling, no adjusting)."""
    return ".nf\n" + roff_escape(text.rstrip("\n")) + "\n.fi"


def inline_markdown(text):
    """Markdown of one table cell to roff: `code` in bold, the rest literal."""
    out = []
    for i, part in enumerate(text.split("`")):
        part = roff_escape(part)
        out.append("\\fB" + part + "\\fR" if i % 2 == 1 else part)
    return "".join(out)


def sentence(text):
    """A table cell as a sentence: roff, with a full stop."""
    return inline_markdown(text) + ("" if text.endswith(".") else ".")


def help_text(binary):
    r = subprocess.run([binary, "--help"], capture_output=True, text=True, check=False)
    if r.returncode != 0 or not r.stdout.startswith("usage: "):
        sys.exit(f"gen-man: {binary} --help: exit {r.returncode}, no usage text")
    return r.stdout


def split_help(text):
    """--help is a synopsis (the lines up to the first blank line, 'usage: ' dropped and
    the continuation lines dedented to match) and the options and commands after it."""
    head, _, rest = text.partition("\n\n")
    lines = head.split("\n")
    lines = [lines[0][len("usage: "):]] + [l[len("usage: "):] if l.startswith(" " * 7) else l
                                           for l in lines[1:]]
    return verbatim("\n".join(lines)), verbatim(rest)


def config_md(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^## Example\n\n```yaml\n(.*?)^```", text, re.M | re.S)
    if m is None:
        sys.exit(f"gen-man: {path}: no ```yaml block under '## Example'")
    example = verbatim(m.group(1))
    m = re.search(r"<!-- BEGIN KEY TABLE -->\n(.*?)<!-- END KEY TABLE -->", text, re.S)
    if m is None:
        sys.exit(f"gen-man: {path}: no key table")
    rows = m.group(1).strip("\n").split("\n")[2:]  # the header and its rule
    out = []
    for row in rows:
        cells = [c.strip() for c in row.strip().strip("|").split(" | ")]
        if len(cells) != 6:
            sys.exit(f"gen-man: {path}: key table row has {len(cells)} cells, not 6: {row}")
        key, typ, default, rng, change, desc = cells
        key = key.strip("`")
        if typ == "mapping":
            # A section: its keys follow, each with its full path.
            out.append(".SS " + roff_escape(key))
            out.append(sentence(desc))
            continue
        facts = [typ]
        if default:
            facts.append("default " + default if default not in ("required", "optional")
                         else default)
        if rng:
            facts.append(rng)
        facts.append("applied by a reload" if change == "reload" else "needs a restart")
        out.append(".TP")
        out.append("\\fB" + roff_escape(key) + "\\fR")
        out.append(".br")
        out.append(sentence("; ".join(facts)))
        out.append(".br")
        out.append(sentence(desc))
    return example, "\n".join(out)


def generate(src, xferd, xferctl, version):
    subs = {"@VERSION@": version}
    subs["@XFERD_SYNOPSIS@"], subs["@XFERD_OPTIONS@"] = split_help(help_text(xferd))
    subs["@XFERCTL_SYNOPSIS@"], subs["@XFERCTL_OPTIONS@"] = split_help(help_text(xferctl))
    subs["@CONFIG_EXAMPLE@"], subs["@CONFIG_KEYS@"] = config_md(
        os.path.join(src, "docs", "CONFIG.md"))
    pages = {}
    for page in PAGES:
        with open(os.path.join(src, "docs", "man", page + ".in"), encoding="utf-8") as f:
            text = f.read()
        for k, v in subs.items():
            text = text.replace(k, v)
        left = re.findall(r"@[A-Z_]+@", text)
        if left:
            sys.exit(f"gen-man: {page}.in: unknown placeholder(s) {', '.join(left)}")
        pages[page] = text
    return pages


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--xferd", required=True)
    ap.add_argument("--xferctl", required=True)
    ap.add_argument("--version", required=True)
    ap.add_argument("--check", action="store_true",
                    help="compare with the committed pages instead of writing them")
    ap.add_argument("src")
    a = ap.parse_args()
    pages = generate(a.src, a.xferd, a.xferctl, a.version)
    stale = []
    for page, text in pages.items():
        path = os.path.join(a.src, "docs", "man", page)
        if a.check:
            try:
                with open(path, encoding="utf-8") as f:
                    old = f.read()
            except FileNotFoundError:
                old = None
            if old != text:
                stale.append(page)
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
    if stale:
        print(f"gen-man: docs/man/{', docs/man/'.join(stale)} stale: regenerate with "
              f"scripts/gen-man.py --xferd BUILD/control/xferd/xferd "
              f"--xferctl BUILD/control/xferctl/xferctl --version {a.version} SRCDIR",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
