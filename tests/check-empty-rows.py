#!/usr/bin/python3
"""Rows whose cells are all empty are skipped and counted, not rejected.

Usage: check-empty-rows.py TALLY DATA_DIR

Excel leaves ",,," rows after a table (and quoted "" cells are empty as
well). Each demo input is written again with such rows put in at known
places, and the count that tally reports is the number put in:
1. records (68 355 rows, read by two threads and by one): 5 empty rows
   (after the header, in the middle, three at the end); the rollup printed
   is byte-identical to the one of the file as it was; the summary says
   "5 empty rows skipped" and the rows read are the file's own.
2. targets (progress) and households (poverty): 2 empty rows each.
3. with no empty row the summary line is as it was (no "skipped").
"""
import os
import re
import subprocess
import sys
import tempfile

TALLY, DATA = sys.argv[1], sys.argv[2]
H = os.path.join(DATA, 'yueyang-hierarchy.csv')
D = os.path.join(DATA, 'yueyang.yaml')
tmp = tempfile.mkdtemp(prefix='empty-rows-')
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print('FAIL:', what)


def with_empty(src, name, at, empty):
    """src's lines with `empty` put in before each 0-based line index in at."""
    lines = open(src, encoding='utf-8').read().splitlines(keepends=True)
    out = []
    for i, line in enumerate(lines):
        for k, where in enumerate(at):
            if where == i:
                out.append(empty[k])
        out.append(line)
    for k, where in enumerate(at):
        if where >= len(lines):
            out.append(empty[k])
    path = os.path.join(tmp, name)
    with open(path, 'w', encoding='utf-8') as f:
        f.writelines(out)
    return path, len(lines) - 1


def tally(*args):
    return subprocess.run([TALLY, *args], capture_output=True, text=True)


records = os.path.join(DATA, 'yueyang-2019.csv')
n_lines = sum(1 for _ in open(records, encoding='utf-8'))
padded, nrows = with_empty(records, 'records.csv', [1, n_lines // 2, n_lines, n_lines, n_lines],
                           [',,,\n', ',,,\n', ',,,\n', '"","","",""\n', ',,,\r\n'])
base = tally('rollup', '-H', H, '-d', D, '-r', records)
check(base.returncode == 0, f'rollup of {records}: {base.stderr}')
check('skipped' not in base.stderr, f'a summary without empty rows says skipped: {base.stderr!r}')
for threads in ('2', '1'):
    r = tally('rollup', '-H', H, '-d', D, '-r', padded, '--threads', threads)
    check(r.returncode == 0, f'--threads {threads}: exit {r.returncode}: {r.stderr}')
    check(r.stdout == base.stdout, f'--threads {threads}: the rollup differs')
    want = (f'records: {nrows} rows read = {nrows} accepted + 0 rejected; '
            '5 empty rows skipped')
    check(want in r.stderr, f'--threads {threads}: no {want!r} in {r.stderr!r}')

targets, ntargets = with_empty(os.path.join(DATA, 'yueyang-targets-2019.csv'), 'targets.csv',
                               [2, 10 ** 9], [',,,\n', ',,,\n'])
r = tally('progress', '-H', H, '-d', D, '-r', records, '-t', targets, '--as-of', '2019-08')
check(r.returncode == 0, f'progress: exit {r.returncode}: {r.stderr}')
want = f'targets: {ntargets} rows read = {ntargets} accepted + 0 rejected; 2 empty rows skipped'
check(want in r.stderr, f'progress: no {want!r} in {r.stderr!r}')

households, nhh = with_empty(os.path.join(DATA, 'yueyang-households-2019.csv'), 'hh.csv',
                             [5, 10 ** 9], [',,,,,\n', ',,,,,\n'])
r = tally('poverty', '-H', H, '-d', D, '--households', households)
check(r.returncode == 0, f'poverty: exit {r.returncode}: {r.stderr}')
want = f'households: {nhh} rows read = {nhh} accepted + 0 rejected; 2 empty rows skipped'
check(want in r.stderr, f'poverty: no {want!r} in {r.stderr!r}')

sys.exit(1 if failures else 0)
