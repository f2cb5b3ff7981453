#!/usr/bin/env python3
"""Fail when a command that a test, script or benchmark runs comes from a Debian package
that scripts/install-deps.sh does not install.

A fresh Debian 12 root has only the Essential packages and apt (mmdebstrap's `apt`
variant, which scripts/fresh-root.sh builds). Everything else a test or script runs must
be named in install-deps.sh, or a fresh machine fails or skips where this one passes.

How a command is found (a reading of the code, not a parser): in shell scripts, each word
in a command position; in Python, the first element of an argv list, shutil.which() and /usr/bin paths; in
C, the first word of each string passed to system(), popen() or snprintf(); in meson
files, find_program(). A word counts when it names a program installed on this machine
(its package found in dpkg's file lists, as `dpkg -S` does) or one in KNOWN_COMMANDS below
(the table for programs this machine may not have).

Usage: check-deps.py [REPO]     exit 0 when complete, 1 with one line per gap.
       check-deps.py --self-test
"""
import os
import re
import subprocess
import sys

# Programs the project may run that are not installed everywhere: command -> package.
# dpkg -S answers for installed ones; this table answers on a machine that lacks them.
KNOWN_COMMANDS = {
    "clang": "clang",
    "clang-format": "clang-format",
    "dpdk-telemetry.py": "dpdk-dev",
    "dpdk-test": "dpdk",
    "dpdk-testpmd": "dpdk",
    "ethtool": "ethtool",
    "git": "git",
    "gnuplot": "gnuplot-nox",
    "hyperfine": "hyperfine",
    "ip": "iproute2",
    "meson": "meson",
    "mkfs.ext4": "e2fsprogs",
    "mkfs.xfs": "xfsprogs",
    "mmdebstrap": "mmdebstrap",
    "nft": "nftables",
    "ninja": "ninja-build",
    "perf": "linux-perf",
    "ping": "iputils-ping",
    "python3": "python3",
    "rsync": "rsync",
    "tshark": "tshark",
    "xfs_info": "xfsprogs",
    "xfs_io": "xfsprogs",
}

# Programs whose package dpkg -S cannot name (a link made by an alternative or by the
# /usr merge).
LINKED_COMMANDS = {"sh": "dash", "awk": "mawk"}

# Shell words after which the next word is run as a program.
SHELL_LEADS = {"if", "then", "else", "elif", "do", "while", "until", "!", "exec", "time",
               "sudo", "nice", "nohup", "xargs", "command", "which", "builtin"}
SHELL_BUILTINS = {"cd", "echo", "printf", "read", "local", "export", "set", "unset", "shift",
                  "return", "exit", "trap", "wait", "kill", "test", "true", "false", "eval",
                  "source", ".", "declare", "readonly", "type", "let", "case", "esac", "fi",
                  "done", "for", "in", "function", "break", "continue", "ulimit", "umask",
                  "getopts", "mapfile", "pwd", "[", "[[", "]]", "{", "}"}

# Programs that .ci/run runs on the host to make the fresh root: their packages are the
# host's, not the root's. scripts/fresh-root.sh runs only on the host, and checks for
# what it needs itself.
HOST_ONLY = {"mmdebstrap", "unshare", "chroot"}
HOST_SCRIPTS = {"fresh-root.sh", "check-deps.py"}

BIN_DIRS = ("/usr/bin", "/usr/sbin", "/bin", "/sbin")
SCAN_DIRS = ("scripts", "tests", "perf", ".ci")
NAME = r"[A-Za-z][\w.+-]*"


def strip_hash_comments(text):
    out = []
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            out.append("")
            continue
        m = re.search(r"\s#", line)
        out.append(line[: m.start()] if m else line)
    return out


def shell_code(text):
    """The shell's own code, line for line: comments, single-quoted text and here-document
    bodies blanked (they are input to other programs, or prose), newlines kept."""
    out, i, n = [], 0, len(text)
    dq = False
    pending = []  # here-document delimiters seen on the current line
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n:
            out.append(text[i : i + 2])
            i += 2
            continue
        if c == '"':
            dq = not dq
        elif dq and text.startswith("$(", i):
            # A command substitution inside double quotes is code: keep it whole.
            depth, j = 0, i + 1
            while j < n:
                depth += {"(": 1, ")": -1}.get(text[j], 0)
                j += 1
                if depth == 0:
                    break
            out.append(text[i:j])
            i = j
            continue
        elif dq and c != "\n":
            out.append("_")  # quoted text is an argument, never a command
            i += 1
            continue
        elif not dq and c == "'":
            j = text.find("'", i + 1)
            j = n - 1 if j < 0 else j
            out.append("''" + "\n" * text.count("\n", i, j))
            i = j + 1
            continue
        elif not dq and c == "#" and (i == 0 or text[i - 1] in " \t\n;"):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        elif not dq and text.startswith("<<", i):
            m = re.match(r"<<-?\s*['\"]?(\w+)['\"]?", text[i:])
            if m:
                pending.append(m.group(1))
                out.append(m.group(0).replace("'", "").replace('"', ""))
                i += m.end()
                continue
        elif c == "\n" and pending:
            out.append("\n")
            i += 1
            for delim in pending:  # skip each body through its delimiter line
                while i < n:
                    j = text.find("\n", i)
                    j = n if j < 0 else j
                    line = text[i:j]
                    out.append("\n")
                    i = j + 1
                    if line.strip() == delim:
                        break
            pending = []
            continue
        out.append(c)
        i += 1
    return "".join(out)


def shell_commands(text):
    """The words a shell script runs as programs (a simple reading, not a full parser)."""
    found = []
    for lineno, line in enumerate(shell_code(text).splitlines(), 1):
        # 'for c in ip nft ...; do command -v "$c"': the words listed are programs.
        m = re.match(r"\s*for \w+ in ([^;$\"]*); do", line)
        if m and "command -v" in text:
            found += [(w, lineno) for w in m.group(1).split()]
        line = re.sub(r"\$\(\(.*?\)\)", "0", line)  # arithmetic runs nothing
        for part in re.split(r"\|\||&&|[|;`({]|\$\(|<\(", line):
            words = part.split()
            while words:
                w = words[0]
                if re.match(r"^\w+=", w) or w in SHELL_LEADS or w.startswith("-"):
                    words = words[1:]
                    continue
                if w == "timeout":
                    words = [x for x in words[1:] if not re.match(r"^-|^\d", x)]
                    continue
                if w == "ip" and words[1:3] == ["netns", "exec"]:
                    found.append(("ip", lineno))
                    words = words[4:]
                    continue
                break
            if words and words[0] not in SHELL_BUILTINS:
                found.append((words[0].strip("\"'"), lineno))
    return found


def literal_commands(text):
    """First word of each string literal, and each word after a '|' in it (C commands)."""
    found = []
    for lineno, line in enumerate(text.splitlines(), 1):
        for lit in re.findall(r'"((?:[^"\\]|\\.)*)"', line):
            m = re.match(r"\s*(?:/usr)?(?:/s?bin/)?(" + NAME + r")(\s|$)", lit)
            if m:
                found.append((m.group(1), lineno))
            for m in re.finditer(r"\|\s*(" + NAME + ")", lit):
                found.append((m.group(1), lineno))
        for lit in re.findall(r"'([^']*)'", line):
            m = re.match(r"\s*(?:/usr)?(?:/s?bin/)?(" + NAME + r")(\s|$)", lit)
            if m:
                found.append((m.group(1), lineno))
    return found


def commands_of(path):
    text = open(path, encoding="utf-8", errors="replace").read()
    base = os.path.basename(path)
    if path.endswith(".c"):
        text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
        text = re.sub(r"//[^\n]*", " ", text)
        # Commands are run by system() and popen(), built by snprintf() into a `cmd`.
        calls = re.compile(r"(?:\b(?:system|popen|execlp|execvp)\s*\(|snprintf\s*\(\s*cmd\b)(.*)")
        lines = [(m.group(1) if m else "") for m in map(calls.search, text.splitlines())]
        return literal_commands("\n".join(lines))
    if path.endswith(".py"):
        text = re.sub(r'"""(.*?)"""', lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
        found = []
        for lineno, line in enumerate(strip_hash_comments(text), 1):
            # argv lists ["prog", ...], shutil.which("prog"), and absolute program paths.
            for m in re.finditer(r"(?:(?<![\w\])])[\[(]\s*|which\(\s*)[\"'](?:/usr)?(?:/s?bin/)?("
                                 + NAME + r")[\"']\s*[,\])]", line):
                found.append((m.group(1), lineno))
            for m in re.finditer(r"[\"'](?:/usr)?/s?bin/(" + NAME + r")[\"' ]", line):
                found.append((m.group(1), lineno))
        return found
    if base == "meson.build":
        return [(m, 0) for m in re.findall(r"find_program\(\s*'([^'/]+)'", text)]
    return shell_commands(text)


def source_files(repo):
    yield os.path.join(repo, "meson.build")
    for top in SCAN_DIRS:
        for root, dirs, files in os.walk(os.path.join(repo, top)):
            dirs[:] = [d for d in dirs if not d.startswith(("build", "."))]
            for f in files:
                p = os.path.join(root, f)
                if f.endswith((".sh", ".py", ".c")) or f in ("meson.build", "run", "run-all"):
                    yield p


def dpkg_owners():
    """Path -> package, from dpkg's file lists (one read instead of a dpkg -S per name)."""
    owners = {}
    info = "/var/lib/dpkg/info"
    for f in os.listdir(info):
        if not f.endswith(".list"):
            continue
        pkg = f[: -len(".list")].split(":", 1)[0]
        with open(os.path.join(info, f), encoding="utf-8", errors="replace") as fh:
            for line in fh:
                owners.setdefault(line.rstrip("\n"), pkg)
    return owners


def package_of(name, owners):
    if name in LINKED_COMMANDS:
        return LINKED_COMMANDS[name]
    for d in BIN_DIRS:
        for p in (os.path.join(d, name), os.path.realpath(os.path.join(d, name))):
            if p in owners:
                return owners[p]
    return KNOWN_COMMANDS.get(name)


def installed_programs():
    progs = set()
    for d in BIN_DIRS:
        try:
            progs.update(os.listdir(d))
        except OSError:
            pass
    return progs


def listed_packages(repo):
    text = open(os.path.join(repo, "scripts", "install-deps.sh"), encoding="utf-8").read()
    m = re.search(r"^packages=\((.*?)^\)", text, flags=re.S | re.M)
    if not m:
        sys.exit("check-deps: no packages=( ... ) list in scripts/install-deps.sh")
    words = set()
    for line in m.group(1).splitlines():
        words.update(line.split("#", 1)[0].split())
    return words


def installed_with(listed):
    """Packages that a listed package depends on directly: installing it brings them."""
    r = subprocess.run(["dpkg-query", "-W", "-f", "${Package}\t${Depends}\t${Pre-Depends}\n",
                        *sorted(listed)], capture_output=True, text=True)
    deps = set()
    for line in r.stdout.splitlines():
        for field in line.split("\t")[1:]:
            for alt in field.split(","):
                d = alt.split("|")[0].strip().split(" ")[0].split(":")[0]
                if d:
                    deps.add(d)
    return deps


def base_packages():
    """Essential packages and apt: what mmdebstrap's `apt` variant installs."""
    r = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Essential}\n"],
                       capture_output=True, text=True, check=True)
    base = {"apt"}
    for line in r.stdout.splitlines():
        name, _, ess = line.partition(" ")
        if ess.strip() == "yes":
            base.add(name)
    return base


def self_test():
    """The check on a made-up repository: a program run in each way is found, one named
    only in prose is not, and dropping its package from the list is reported."""
    import tempfile
    code = {
        "tests/a.sh": "#!/bin/sh\n# ethtool in a comment\necho \"ethtool (x)\" 'rsync'\n"
                      "x=$(ip netns exec ns ethtool -K veth0 tx off) && true\n"
                      "python3 - <<'EOF'\nrsync = 1\nEOF\n",
        "tests/b.py": "import subprocess\nd = {'ping': 1}\nsubprocess.run(['nft', '-f', '-'])\n",
        "tests/c.c": "int main(void){ return system(\"rsync -a x y | mawk 1\"); }\n",
        "tests/meson.build": "find_program('git')\n",
        "meson.build": "",
    }
    want = {"ethtool", "ip", "nft", "rsync", "mawk", "git"}
    failures = 0
    with tempfile.TemporaryDirectory() as repo:
        for rel, text in code.items():
            os.makedirs(os.path.dirname(os.path.join(repo, rel)), exist_ok=True)
            open(os.path.join(repo, rel), "w").write(text)
        got = set()
        for path in source_files(repo):
            if os.path.isfile(path):
                got.update(n for n, _ in commands_of(path) if n in want | {"ping", "python3"})
        if got != want | {"python3"}:
            print(f"self-test: found {sorted(got)}, want {sorted(want | {'python3'})}")
            failures += 1
        os.makedirs(os.path.join(repo, "scripts"))
        deps = os.path.join(repo, "scripts", "install-deps.sh")
        full = "ethtool iproute2 nftables rsync mawk git python3"
        for listed, want_rc in ((full, 0), (full.replace("ethtool ", ""), 1)):
            open(deps, "w").write(f"packages=(\n\t{listed}\n)\n")
            r = subprocess.run([sys.executable, __file__, repo], capture_output=True, text=True)
            if r.returncode != want_rc or (want_rc and "'ethtool'" not in r.stdout):
                print(f"self-test: with '{listed}' exit {r.returncode} (want {want_rc}):"
                      f" {r.stdout}")
                failures += 1
    print(f"check-deps self-test: {'ok' if not failures else 'FAILED'}")
    return 1 if failures else 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    repo = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    repo = os.path.abspath(repo)
    progs = installed_programs()
    listed = listed_packages(repo)
    allowed = base_packages() | listed | installed_with(listed)
    owners = dpkg_owners()
    used = {}
    for path in source_files(repo):
        if os.path.basename(path) in HOST_SCRIPTS or not os.path.isfile(path):
            continue
        for name, lineno in commands_of(path):
            if name in HOST_ONLY:
                continue
            if name in progs or name in KNOWN_COMMANDS:
                used.setdefault(name, f"{os.path.relpath(path, repo)}:{lineno}")
    gaps = []
    for name, where in sorted(used.items()):
        pkg = package_of(name, owners)
        if pkg is None:
            gaps.append(f"{where}: '{name}' comes from no package dpkg knows: name it in "
                        "KNOWN_COMMANDS in scripts/check-deps.py")
        elif pkg not in allowed:
            gaps.append(f"{where}: runs '{name}', from package {pkg}, which "
                        "scripts/install-deps.sh does not install")
    for g in gaps:
        print(g)
    print(f"check-deps: {len(used)} programs run by tests and scripts, {len(gaps)} from "
          "packages that install-deps.sh does not install")
    return 1 if gaps else 0


if __name__ == "__main__":
    sys.exit(main())
