#!/usr/bin/env python3
"""The transcripts in README.md and docs/ print what they say.

In each section listed in SECTIONS, every fenced block that starts with
"$ tally" is a transcript: the command (continuation lines joined, `tally`
replaced by the built program) is run, and its standard error and standard
output must equal the rest of the block. A block whose last line is "..."
shows the start of the output: the lines before it must be the first lines
printed. The commands of one file run in order, in one scratch directory
that sees the repository's examples/ and tests/, so a block may read what
an earlier block of the same file wrote (a snapshot, for instance).

Usage: check-readme.py TALLY_EXE SOURCE_ROOT
"""
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

# (file, section title): the sections whose transcripts are run.
SECTIONS = [
    ("README.md", "Quick start"),
    ("README.md", "Bad input"),
    ("README.md", "tally snapshot"),
    ("docs/progress.md", "Bad targets rows"),
    ("docs/poverty.md", "Bad household rows"),
    ("docs/categories.md", "Rollup"),
]


def section(text, title):
    """The text under the heading `title` (any level), up to the next
    heading of the same or a higher level; headings inside fenced blocks
    do not count. None when there is no such heading."""
    out, depth, fenced = None, None, False
    for line in text.splitlines(keepends=True):
        if line.startswith("```"):
            fenced = not fenced
        m = None if fenced else re.match(r"(#+) (.*?)\s*$", line)
        if m and out is not None and len(m.group(1)) <= depth:
            break
        if out is not None:
            out.append(line)
        elif m and m.group(2).strip("`") == title:
            out, depth = [], len(m.group(1))
    return None if out is None else "".join(out)


def blocks(text):
    """The fenced blocks of `text` that name no language, as strings."""
    out, cur, plain = [], None, False
    for line in text.splitlines(keepends=True):
        if cur is None:
            if line.startswith("```"):
                cur, plain = [], line.strip() == "```"
        elif line.strip() == "```":
            if plain:
                out.append("".join(cur))
            cur = None
        else:
            cur.append(line)
    return out


def run_block(tally, work, block):
    lines = block.splitlines()
    cmd = lines.pop(0)[2:]
    while cmd.endswith("\\"):
        cmd = cmd[:-1] + " " + lines.pop(0).strip()
    argv = shlex.split(cmd)
    argv[0] = tally
    run = subprocess.run(argv, cwd=work, capture_output=True, text=True, encoding="utf-8")
    got = (run.stderr + run.stdout).splitlines()
    if lines and lines[-1] == "...":
        ok = got[:len(lines) - 1] == lines[:-1]
    else:
        ok = got == lines
    return cmd, ok, lines, got, run.returncode


def main():
    tally, root = sys.argv[1], os.path.abspath(sys.argv[2])
    bad = 0
    works = {}
    for path, title in SECTIONS:
        text = open(os.path.join(root, path), encoding="utf-8").read()
        body = section(text, title)
        examples = [b for b in blocks(body or "") if b.startswith("$ tally")]
        if not examples:
            bad += 1
            print(f"{path}: no transcripts found in the section '{title}'")
            continue
        if path not in works:
            works[path] = tempfile.mkdtemp(prefix="tally-readme-")
            for d in ("examples", "tests"):
                os.symlink(os.path.join(root, d), os.path.join(works[path], d))
        for block in examples:
            cmd, ok, lines, got, status = run_block(tally, works[path], block)
            if not ok:
                bad += 1
                print(f"{path} ({title}): $ {cmd}\n--- documented\n" + "\n".join(lines)
                      + "\n--- actual\n" + "\n".join(got))
            else:
                print(f"ok: {path} ({title}): {cmd} (exit {status})")
    for work in works.values():
        shutil.rmtree(work)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
