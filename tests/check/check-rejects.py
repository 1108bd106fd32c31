#!/usr/bin/env python3
"""--on-error collect --rejects FILE in every subcommand, for every kind of
input it reads: each rejected row of the records, the targets and the
households goes to the one FILE, in the order read (records, targets,
households; files in command-line order), with its file, line and the row
as it stands there; the file is written once (one "N rejected rows written
to FILE" line), even with nothing rejected, over any older file. Without
--rejects every rejected row is named on stderr instead.

The rows expected are listed here by file and line; their text is taken
from the files themselves.

Usage: check-rejects.py TALLY SOURCE_ROOT
"""
import csv
import os
import subprocess
import sys
import tempfile

tally, root = sys.argv[1], sys.argv[2]
data = os.path.join(root, "examples", "data")
H = ["-H", os.path.join(data, "yueyang-hierarchy.csv")]
Y = ["-d", os.path.join(data, "yueyang.yaml")]
YC = ["-d", os.path.join(data, "yueyang-checks.yaml")]
GOOD_RECORDS = os.path.join(data, "yueyang-2019.csv")
GOOD_TARGETS = os.path.join(data, "yueyang-targets-2019.csv")
# Bad files and the lines of their rejected rows (in collect mode).
BAD_RECORDS = (os.path.join(data, "bad-records.csv"), [3, 4, 5, 6, 7, 9])
BAD_TARGETS = (os.path.join(root, "tests", "check", "bad-targets.csv"), [3])
BAD_TARGETS_MORE = (os.path.join(root, "tests", "progress", "bad-targets.csv"), [3, 4, 5, 6, 8])
BAD_HOUSEHOLDS = (os.path.join(root, "tests", "poverty", "data", "bad-households.csv"),
                  [3, 4, 5, 6, 7])
BAD_REGION = (os.path.join(root, "tests", "poverty", "data", "bad-region.csv"), [3])
failures = []


def lines_of(path):
    with open(path, encoding="utf-8", newline="") as f:
        return f.read().split("\n")


def expected_rows(*bad):
    """(file, line, row text) of every rejected row, in order."""
    rows = []
    for path, lines in bad:
        text = lines_of(path)
        rows += [(path, str(n), text[n - 1]) for n in lines]
    return rows


# (name, subcommand and arguments, the bad files given, good exit statuses)
PROGRESS = ["progress", "--as-of", "2019-08", "--level", "county"]
CASES = [
    ("rollup records", ["rollup", *H, *Y, "-r", BAD_RECORDS[0], "--level", "city"],
     [BAD_RECORDS], {0}),
    ("snapshot records", ["snapshot", *H, *Y, "-r", BAD_RECORDS[0], "-o", "{tmp}/snapshot"],
     [BAD_RECORDS], {0}),
    ("progress records", [*PROGRESS, *H, *Y, "-r", BAD_RECORDS[0], "-t", GOOD_TARGETS],
     [BAD_RECORDS], {0}),
    ("progress targets", [*PROGRESS, *H, *Y, "-r", GOOD_RECORDS, "-t", BAD_TARGETS_MORE[0]],
     [BAD_TARGETS_MORE], {0}),
    ("progress records and targets",
     [*PROGRESS, *H, *Y, "-r", BAD_RECORDS[0], "-t", BAD_TARGETS_MORE[0]],
     [BAD_RECORDS, BAD_TARGETS_MORE], {0}),
    ("check records", ["check", *H, *YC, "-r", BAD_RECORDS[0], "-t", GOOD_TARGETS],
     [BAD_RECORDS], {0, 1}),
    ("check targets", ["check", *H, *YC, "-r", GOOD_RECORDS, "-t", BAD_TARGETS[0]],
     [BAD_TARGETS], {0, 1}),
    ("check records and two targets files",
     ["check", *H, *YC, "-r", BAD_RECORDS[0], "-t", BAD_TARGETS[0], "-t", BAD_TARGETS_MORE[0]],
     [BAD_RECORDS, BAD_TARGETS, BAD_TARGETS_MORE], {0, 1}),
    ("poverty records", ["poverty", *H, *Y, "-r", BAD_RECORDS[0], "--year", "2019"],
     [BAD_RECORDS], {0}),
    ("poverty households", ["poverty", *H, *Y, "--households", BAD_HOUSEHOLDS[0]],
     [BAD_HOUSEHOLDS], {0}),
    ("poverty two households files",
     ["poverty", *H, *Y, "--households", BAD_HOUSEHOLDS[0], "--households", BAD_REGION[0]],
     [BAD_HOUSEHOLDS, BAD_REGION], {0}),
    ("rollup, nothing rejected", ["rollup", *H, *Y, "-r", GOOD_RECORDS, "--level", "city"],
     [], {0}),
    ("check, nothing rejected", ["check", *H, *YC, "-r", GOOD_RECORDS, "-t", GOOD_TARGETS],
     [], {0, 1}),
]


def run(args):
    p = subprocess.run([tally, *args], capture_output=True, text=True, encoding="utf-8")
    return p.returncode, p.stderr


for name, args, bad, statuses in CASES:
    command = args[0]
    want = expected_rows(*bad)
    with tempfile.TemporaryDirectory() as tmp:
        args = [a.replace("{tmp}", tmp) for a in args] + ["-o", os.path.join(tmp, "out")]
        rejects = os.path.join(tmp, "rejects.csv")
        with open(rejects, "w") as f:
            f.write("an older file\n")
        status, err = run(args + ["--on-error", "collect", "--rejects", rejects])
        if status not in statuses:
            failures.append(f"{name}: exit {status}\n{err}")
        with open(rejects, encoding="utf-8", newline="") as f:
            table = list(csv.reader(f))
        if not table or table[0] != ["file", "line", "column", "reason", "row"]:
            failures.append(f"{name}: --rejects header {table[:1]}")
        got = [(r[0], r[1], r[4]) for r in table[1:] if len(r) == 5]
        if got != want or len(table) != len(want) + 1:
            failures.append(f"{name}: --rejects holds\n  " + "\n  ".join(map(str, table[1:]))
                            + "\nexpected\n  " + "\n  ".join(map(str, want)))
        written = [l for l in err.splitlines() if "rejected rows written to" in l]
        line = f"tally {command}: {len(want)} rejected rows written to {rejects}"
        if written != [line]:
            failures.append(f"{name}: stderr says {written}, expected [{line!r}]")
        if any(l.startswith(f"tally {command}: rejected ") for l in err.splitlines()):
            failures.append(f"{name}: rejected rows named on stderr as well as in --rejects")

        # Without --rejects: each rejected row on stderr, in the same order.
        status, err = run(args + ["--on-error", "collect"])
        named = [l for l in err.splitlines() if l.startswith(f"tally {command}: rejected ")]
        # "tally check: rejected PATH:LINE:COLUMN: reason"
        where = [l.split(": ")[1][len("rejected "):].rsplit(":", 1)[0] for l in named]
        if where != [f"{path}:{n}" for path, n, _ in want]:
            failures.append(f"{name}: stderr names\n  " + "\n  ".join(named)
                            + "\nexpected the rows at\n  "
                            + "\n  ".join(f"{p}:{n}" for p, n, _ in want))

# --rejects without collect is bad usage.
status, err = run(["check", *H, *YC, "-r", GOOD_RECORDS, "--rejects", "x.csv"])
if status != 2 or "tally check: --rejects needs --on-error collect" not in err.splitlines():
    failures.append(f"--rejects without collect: exit {status}\n{err}")

if failures:
    print("\n".join(failures))
    sys.exit(1)
print(f"{len(CASES)} runs: every rejected row of every input in --rejects FILE and on stderr")
