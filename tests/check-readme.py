#!/usr/bin/env python3
"""The README's bad-input examples print what the README says.

Every fenced block in README.md's "Bad input" section that starts with
"$ tally" is run (continuation lines joined, `tally` replaced by the built
program) in a scratch directory that sees the repository's examples/; its
standard error and output must equal the rest of the block.

Usage: check-readme.py TALLY_EXE SOURCE_ROOT
"""
import os
import re
import shlex
import subprocess
import sys
import tempfile


def main():
    tally, root = sys.argv[1], sys.argv[2]
    text = open(os.path.join(root, "README.md"), encoding="utf-8").read()
    section = text.split("## Bad input", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```\n(.*?)```", section, re.S)
    examples = [b for b in blocks if b.startswith("$ tally")]
    if not examples:
        print("no examples found in README.md's Bad input section")
        return 1
    work = tempfile.mkdtemp(prefix="tally-readme-")
    os.symlink(os.path.join(root, "examples"), os.path.join(work, "examples"))
    bad = 0
    for block in examples:
        lines = block.splitlines()
        cmd = lines.pop(0)[2:]
        while cmd.endswith("\\"):
            cmd = cmd[:-1] + " " + lines.pop(0).strip()
        argv = shlex.split(cmd)
        argv[0] = tally
        run = subprocess.run(argv, cwd=work, capture_output=True, text=True, encoding="utf-8")
        got = (run.stderr + run.stdout).splitlines()
        if got != lines:
            bad += 1
            print(f"$ {cmd}\n--- README\n" + "\n".join(lines) + "\n--- actual\n" + "\n".join(got))
        else:
            print(f"ok: {cmd} (exit {run.returncode})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
