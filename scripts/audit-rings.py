#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Ring producer audit checker (docs/audits/ring-producer-audit.md).

Scans dataplane/, drivers/ and control/ (not perf/ or tests/) for ring creation and
enqueue sites and checks that:
  * every rte_ring is created with RING_F_SP_ENQ | RING_F_SC_DEQ;
  * rings are created with rte_ring_* only inside drivers/ring/ (everything else goes
    through xf_ring_create, so the owner cores are recorded);
  * no multi-producer enqueue is called anywhere, and rte_ring enqueues are called only
    inside drivers/ring/ (everything else uses xf_ring_enqueue_*, which asserts the owner);
  * every creation and enqueue site, keyed by file + enclosing function + call (not line,
    so unrelated edits do not churn the audit), has a row in the audit tables, with its
    owning core and its reason filled in, and no row names a site that is gone.

Exit 0 when all hold, 1 otherwise (with the rows to add or remove on stderr).
--update prints both tables with current line numbers, keeping the text of known rows.
"""
import argparse
import os
import re
import sys

SCAN_DIRS = ("dataplane", "drivers", "control")
RING_DRIVER_DIR = "drivers/ring/"
AUDIT_DOC = "docs/audits/ring-producer-audit.md"

CREATE_RE = re.compile(r"\b(rte_ring_create_elem|rte_ring_create|rte_ring_init|xf_ring_create)\s*\(")
ENQUEUE_RE = re.compile(r"\b(xf_ring_enqueue\w*|rte_ring_\w*enqueue\w*)\s*\(")
# Index of the flags argument of each rte_ring constructor.
FLAGS_ARG = {"rte_ring_create": 3, "rte_ring_create_elem": 4, "rte_ring_init": 3}
NOT_FUNCTIONS = {"__attribute__", "__declspec", "sizeof", "typeof", "__typeof__", "alignas",
                 "_Alignas", "__rte_cache_aligned"}

CREATE_HEADING = "## Ring creation sites"
ENQUEUE_HEADING = "## Enqueue sites"
CREATE_HEADER = ("| File | Line | Function | Call | Producer core | Consumer core | "
                 "Why single-producer |\n|---|---|---|---|---|---|---|")
ENQUEUE_HEADER = ("| File | Line | Function | Call | Owning core | Why single-producer |\n"
                  "|---|---|---|---|---|---|")


def strip_c(text):
    """Blank comments, string/char literals and preprocessor lines; keep offsets and lines."""
    out = list(text)
    i, n = 0, len(text)
    at_line_start = True
    while i < n:
        c = text[i]
        if at_line_start and c in " \t":
            i += 1
            continue
        if at_line_start and c == "#":
            # Directive, with backslash continuations.
            while i < n and text[i] != "\n":
                if text[i] == "\\" and i + 1 < n and text[i + 1] == "\n":
                    out[i] = " "
                    i += 2
                    continue
                out[i] = " "
                i += 1
            continue
        at_line_start = False
        if c == "\n":
            at_line_start = True
            i += 1
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":
                out[i] = " "
                i += 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            for k in range(i, j):
                if text[k] != "\n":
                    out[k] = " "
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            for k in range(i + 1, min(j, n)):
                if text[k] != "\n":
                    out[k] = " "
            i = j + 1
        else:
            i += 1
    return "".join(out)


def function_spans(code):
    """(start, end, name) of each top-level function body in stripped code."""
    spans = []
    depth = 0
    decl_start = 0
    body_start = None
    name = None
    for i, c in enumerate(code):
        if c == "{":
            if depth == 0:
                head = code[decl_start:i]
                name = None
                if "=" not in head:
                    for m in re.finditer(r"\b([A-Za-z_]\w*)\s*\(", head):
                        if m.group(1) not in NOT_FUNCTIONS:
                            name = m.group(1)
                            break
                body_start = i
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                if name is not None:
                    spans.append((body_start, i, name))
                decl_start = i + 1
        elif c == ";" and depth == 0:
            decl_start = i + 1
    return spans


def call_args(code, open_paren):
    """Top-level arguments of the call whose '(' is at open_paren."""
    args, depth, cur = [], 0, []
    for c in code[open_paren:]:
        if c in "([{":
            depth += 1
            if depth == 1:
                continue
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                args.append("".join(cur).strip())
                return args
        elif c == "," and depth == 1:
            args.append("".join(cur).strip())
            cur = []
            continue
        cur.append(c)
    return args


def flags_are_spsc(flags, body):
    """True if the flags expression (or the variable it names) has both SP and SC bits."""
    text = flags
    if re.fullmatch(r"[A-Za-z_]\w*", flags) and not flags.startswith("RING_F_"):
        assigns = re.findall(r"\b%s\s*\|?=\s*([^;]*);" % re.escape(flags), body)
        text = " ".join(assigns)
    return "RING_F_SP_ENQ" in text and "RING_F_SC_DEQ" in text


def scan(root):
    """Return (sites, errors); sites maps (kind, file, func, call) to a list of lines."""
    sites, errors = {}, []
    for top in SCAN_DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames.sort()
            for fn in sorted(filenames):
                if not fn.endswith((".c", ".h")):
                    continue
                path = os.path.join(dirpath, fn)
                rel = os.path.relpath(path, root)
                with open(path, encoding="utf-8", errors="replace") as f:
                    code = strip_c(f.read())
                spans = function_spans(code)
                for kind, regex in (("create", CREATE_RE), ("enqueue", ENQUEUE_RE)):
                    for m in regex.finditer(code):
                        span = next((s for s in spans if s[0] < m.start() < s[1]), None)
                        if span is None:
                            continue  # a declaration or a definition, not a call
                        call, line = m.group(1), code.count("\n", 0, m.start()) + 1
                        where = "%s:%d (%s)" % (rel, line, span[2])
                        in_driver = rel.startswith(RING_DRIVER_DIR)
                        if kind == "create" and call != "xf_ring_create":
                            if not in_driver:
                                errors.append("%s: %s bypasses xf_ring_create (rings outside "
                                              "%s are created with xf_ring_create so their "
                                              "owner cores are known)" % (where, call,
                                                                          RING_DRIVER_DIR))
                            args = call_args(code, m.end() - 1)
                            idx = FLAGS_ARG[call]
                            flags = args[idx] if len(args) > idx else ""
                            body = code[span[0]:span[1]]
                            if not flags_are_spsc(flags, body):
                                errors.append("%s: %s without RING_F_SP_ENQ | RING_F_SC_DEQ "
                                              "(flags: %s)" % (where, call, flags or "?"))
                        if kind == "enqueue":
                            if re.match(r"rte_ring_mp_|rte_ring_mp_rts|rte_ring_mp_hts", call):
                                errors.append("%s: %s is a multi-producer enqueue; data-path "
                                              "rings are single-producer" % (where, call))
                            elif call.startswith("rte_ring_") and not in_driver:
                                errors.append("%s: %s bypasses xf_ring_enqueue_* (and its "
                                              "owner assertion)" % (where, call))
                        sites.setdefault((kind, rel, span[2], call), []).append(line)
    return sites, errors


def cell(text):
    return text.strip().strip("`").strip()


def parse_audit(path):
    """Rows of the audit tables: (kind, file, func, call) -> list of text cells."""
    rows, kind = {}, None
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if line.startswith("## "):
                kind = ("create" if line.startswith(CREATE_HEADING) else
                        "enqueue" if line.startswith(ENQUEUE_HEADING) else None)
                continue
            if kind is None or not line.startswith("|"):
                continue
            # Cells split on unescaped pipes (a reason may contain "\\|").
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip()[1:-1])]
            if len(cells) < 4 or cells[0] in ("File", "") or set(cells[0]) <= set("-: "):
                continue
            rows[(kind, cell(cells[0]), cell(cells[2]), cell(cells[3]))] = cells
    return rows


def row_text(key, lines, old):
    kind, rel, func, call = key
    line = ", ".join(str(n) for n in lines)
    ncells = 7 if kind == "create" else 6
    tail = old[4:ncells] if old and len(old) >= ncells else ["TODO"] * (ncells - 4)
    return "| `%s` | %s | `%s` | `%s` | %s |" % (rel, line, func, call, " | ".join(tail))


SELFTEST_DOC = """# audit
## Ring creation sites

| File | Line | Function | Call | Producer core | Consumer core | Why single-producer |
|---|---|---|---|---|---|---|
%s

## Enqueue sites

| File | Line | Function | Call | Owning core | Why single-producer |
|---|---|---|---|---|---|
%s
"""


def self_test():
    """Check the checker on small trees: each case is (files, create rows, enqueue rows, ok)."""
    import contextlib
    import io
    import tempfile

    ring_c = ("/* rte_ring_mp_enqueue(r, x) in a comment is not a site */\n"
              "struct xf_ring *\nxf_ring_create(const char *n)\n{\n"
              "\tconst unsigned int flags = RING_F_SP_ENQ | RING_F_SC_DEQ;\n"
              "\treturn rte_ring_init(r, n, 64, flags);\n}\n")
    ring_row = "| `drivers/ring/xf_ring.c` | 6 | `xf_ring_create` | `rte_ring_init` | p | c | why |"
    user_c = ("static int\nsend_one(struct xf_ring *r, const void *it)\n{\n"
              "\tconst char *s = \"xf_ring_enqueue_burst(\";\n"
              "\treturn xf_ring_enqueue_burst(r, it, 1);\n}\n")
    user_row = "| `dataplane/x/a.c` | 5 | `send_one` | `xf_ring_enqueue_burst` | rx | why |"
    cases = [
        ("clean tree", {"drivers/ring/xf_ring.c": ring_c, "dataplane/x/a.c": user_c},
         [ring_row], [user_row], True),
        ("line numbers are not part of the key",
         {"drivers/ring/xf_ring.c": "\n\n" + ring_c, "dataplane/x/a.c": user_c},
         [ring_row], [user_row], True),
        ("enqueue site missing from the table",
         {"drivers/ring/xf_ring.c": ring_c, "dataplane/x/a.c": user_c}, [ring_row], [], False),
        ("row for a site that is gone", {"drivers/ring/xf_ring.c": ring_c},
         [ring_row], [user_row], False),
        ("row without an owner",
         {"drivers/ring/xf_ring.c": ring_c, "dataplane/x/a.c": user_c}, [ring_row],
         [user_row.replace("| rx |", "| TODO |")], False),
        ("rte_ring created without SP/SC flags",
         {"drivers/ring/xf_ring.c": ring_c.replace("RING_F_SP_ENQ | ", "")},
         [ring_row], [], False),
        ("xf_ring_create bypassed in dataplane",
         {"dataplane/x/b.c": "void\nf(void)\n{\n\trte_ring_create(\"r\", 64, 0, "
                             "RING_F_SP_ENQ | RING_F_SC_DEQ);\n}\n"},
         ["| `dataplane/x/b.c` | 4 | `f` | `rte_ring_create` | p | c | why |"], [], False),
        ("multi-producer enqueue",
         {"drivers/ring/x.c": "void\nf(void)\n{\n\trte_ring_mp_enqueue(r, o);\n}\n"},
         [], ["| `drivers/ring/x.c` | 4 | `f` | `rte_ring_mp_enqueue` | p | why |"], False),
        ("perf/ and tests/ are not scanned",
         {"perf/ring/b.c": "void\nf(void)\n{\n\trte_ring_mp_enqueue(r, o);\n}\n"},
         [], [], True),
    ]
    failed = 0
    for name, files, crows, erows, want in cases:
        with tempfile.TemporaryDirectory() as root:
            for rel, text in files.items():
                os.makedirs(os.path.join(root, os.path.dirname(rel)), exist_ok=True)
                with open(os.path.join(root, rel), "w") as f:
                    f.write(text)
            doc = os.path.join(root, "audit.md")
            with open(doc, "w") as f:
                f.write(SELFTEST_DOC % ("\n".join(crows), "\n".join(erows)))
            with contextlib.redirect_stdout(io.StringIO()), \
                    contextlib.redirect_stderr(io.StringIO()):
                got = check(root, doc) == 0
        print("%s: %s" % ("ok  " if got == want else "FAIL", name))
        failed += got != want
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.join(os.path.dirname(__file__), ".."),
                    help="source tree to scan (default: this script's repository)")
    ap.add_argument("--audit", help="audit document (default: ROOT/%s)" % AUDIT_DOC)
    ap.add_argument("--update", action="store_true",
                    help="print both tables with current lines, to paste into the audit")
    ap.add_argument("--self-test", action="store_true", help="check the checker itself")
    opts = ap.parse_args()
    if opts.self_test:
        return self_test()
    root = os.path.abspath(opts.root)
    audit = opts.audit or os.path.join(root, AUDIT_DOC)
    return check(root, audit, opts.update)


def check(root, audit, update=False):
    sites, errors = scan(root)
    rows = parse_audit(audit) if os.path.exists(audit) else {}

    if update:
        for kind, heading, header in (("create", CREATE_HEADING, CREATE_HEADER),
                                      ("enqueue", ENQUEUE_HEADING, ENQUEUE_HEADER)):
            print(heading + "\n\n" + header)
            for key in sorted(k for k in sites if k[0] == kind):
                print(row_text(key, sites[key], rows.get(key)))
            print()
        for e in errors:
            print("audit-rings: " + e, file=sys.stderr)
        return 1 if errors else 0

    missing = [k for k in sorted(sites) if k not in rows]
    stale = [k for k in sorted(rows) if k not in sites]
    todo = [k for k in sorted(rows) if k in sites and any(
        c in ("", "TODO") for c in rows[k][4:])]
    for e in errors:
        print("audit-rings: " + e, file=sys.stderr)
    if missing:
        print("audit-rings: sites missing from %s; add these rows (fill in the owner and the "
              "reason):" % os.path.relpath(audit, root), file=sys.stderr)
        for k in missing:
            print("  [%s] %s" % ("creation" if k[0] == "create" else "enqueue",
                                 row_text(k, sites[k], None)), file=sys.stderr)
    if stale:
        print("audit-rings: rows naming sites that no longer exist; remove or update them:",
              file=sys.stderr)
        for k in stale:
            print("  [%s] %s in %s (%s)" % (k[0], k[3], k[1], k[2]), file=sys.stderr)
    if todo:
        print("audit-rings: rows without an owner or a reason:", file=sys.stderr)
        for k in todo:
            print("  %s (%s) %s" % (k[1], k[2], k[3]), file=sys.stderr)
    n_create = sum(1 for k in sites if k[0] == "create")
    n_enq = sum(1 for k in sites if k[0] == "enqueue")
    ok = not (errors or missing or stale or todo)
    print("audit-rings: %d creation and %d enqueue sites (file + function) in %s: %s" % (
        n_create, n_enq, ", ".join(SCAN_DIRS), "all audited" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
