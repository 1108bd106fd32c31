#!/usr/bin/env python3
"""Broken-corpus identity test: nothing read is ever lost.

    check-broken.py TALLY BROKEN_DIR [--known-bugs]

Runs `tally rollup --on-error collect --rejects F` (and `--on-error stop`)
over every broken records file in BROKEN_DIR/records (and a few large ones
generated here), and `tally rollup` over every broken hierarchy in
BROKEN_DIR/hierarchy. For each records file it checks:

  - the summary on standard error: rows read = accepted + rejected, and the
    three numbers counted by hand (the comments below say how);
  - the rejects CSV: header file,line,column,reason,row and one row per
    rejected row, with the file, the line and column counted by hand, a
    reason and the row text;
  - a header that cannot be used: exit status 2 and a message at
    path:line:col;
  - stop mode: at most one rejected row, the same first one, exit 2.

For each hierarchy: exit status 2 and the message's path:line:col, or a
successful load where the file is valid.

Checks marked with a bug id (B2b, H1b, ...) expect behaviour the library
does not have yet (see the hardening bug list); they run only with
--known-bugs, which is its own meson test (broken-corpus-known-bugs),
failing until they are fixed. When one is fixed, drop its id so that the
main test keeps it. Comments "was Bn" mark checks of bugs found and fixed.
"""
import csv
import io
import os
import random
import re
import subprocess
import sys
import tempfile

TALLY = sys.argv[1]
BROKEN = sys.argv[2]
KNOWN_BUGS = '--known-bugs' in sys.argv[3:]

failures = []
checked = 0
csv.field_size_limit(sys.maxsize)


def fail(case, msg):
    failures.append(f'{case}: {msg}')


def run(args):
    # Every row, so that a value expected missing is seen printed empty.
    p = subprocess.run([TALLY, 'rollup', '--all-regions'] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    return p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace')


SUMMARY = re.compile(r'records: (\d+) rows read = (\d+) accepted \+ (\d+) rejected')


def summary(case, stderr):
    m = SUMMARY.search(stderr)
    if not m:
        fail(case, f'no row summary on stderr: {stderr!r}')
        return None
    read, acc, rej = map(int, m.groups())
    if read != acc + rej:
        fail(case, f'rows read {read} != accepted {acc} + rejected {rej}')
    return read, acc, rej


def read_rejects(case, path):
    with open(path, 'rb') as f:
        data = f.read()
    rows = list(csv.reader(io.StringIO(data.decode('utf-8', 'surrogateescape'), newline='')))
    if not rows or rows[0] != ['file', 'line', 'column', 'reason', 'row']:
        fail(case, f'rejects header is {rows[:1]}')
        return []
    return rows[1:]


def output_value(stdout, region, indicator, period):
    for row in csv.DictReader(io.StringIO(stdout)):
        if (row['region_code'], row['indicator'], row['period']) == (region, indicator, period):
            return row['value']
    return None


# ---- records ----------------------------------------------------------
#
# Per file: exit status in collecting mode, (read, accepted, rejected), the
# (line, column) of every rejected row, and for an unusable header the
# location of the message. Columns count characters from 1: a field error
# points at the field's first character (its opening quote when quoted), a
# row with too many fields at the first extra field, a row with too few
# just past its last character.

RECORDS = {
    # Line 2 has a lone CR inside (old Mac line end): one line of 7 fields,
    # "430602001001,poor,2019-01,1\r430602001002,..." whose 5th field starts
    # after 12+1+4+1+7+1+1+1+12+1 = 41 characters. Lines 3 (CRLF) and 4 (no
    # line end) are good.
    'mixed-line-endings.csv': dict(exit=0, counts=(3, 2, 1), rejects=[(2, 42)]),
    # 2: NUL inside the code (unknown region); 3: value "2\0" after
    # 12+1+4+1+7+1 = 26 characters; 4 good; 5: three NULs, one field, too
    # few: just past 3 characters.
    'nul-bytes.csv': dict(exit=0, counts=(4, 1, 3), rejects=[(2, 1), (3, 27), (5, 4)]),
    # 2: indicator "poor\xe4\xba" (cut UTF-8) at 14; 3: value "3" + GBK bytes
    # at 27; 4 good; 5: value "5\xe5" (file cut mid-character) at
    # 12+1+3+1+7+1 = 25 -> 26.
    # Each reason says the row is not UTF-8 and suggests --encoding.
    'invalid-utf8.csv': dict(exit=0, counts=(4, 1, 3), rejects=[(2, 14), (3, 27), (5, 26)],
                             reasons='--encoding gb18030'),
    # A GB18030 file: 3 has "2人" (C8 CB) as its value, 12+1+4+1+7+1 = 26 ->
    # 27. Found to be GB18030 (it is not UTF-8) and read so, or read with
    # --encoding gb18030 (and the hierarchy in GB18030 too), it is a bad
    # number '2人'.
    'gb18030.csv': dict(exit=0, counts=(3, 2, 1), rejects=[(3, 27)], reasons="bad number '2人'",
                        encoded=dict(encoding='gb18030', hierarchy='hierarchy-gb18030.csv',
                                     reasons="bad number '2人'")),
    # Quoted header. 2 good; 3 value `1"0` at 15+7+10 = 32 -> 33; 4 quote
    # inside an unquoted code (unknown region); 5 text after a closing quote
    # at 15; 6-7 value "5\n6" at 15+4+8 = 27 -> 28 (reported on line 6);
    # 8 good (empty value: missing); 9 empty code; 10 good; 11 unterminated
    # quote, which takes line 12 with it (one rejected row).
    'quotes-everywhere.csv': dict(exit=0, counts=(9, 3, 6),
                                  rejects=[(3, 33), (4, 1), (5, 15), (6, 28), (9, 1), (11, 1)],
                                  values=[('430602001001', 'poor', '2019-01', '1'),
                                          ('430602001002', 'exits', '2019-01', '2'),
                                          ('430626100201', 'pop', '2019-01', '')]),
    # A BOM at the start is skipped; in the middle it is part of a code:
    # 3 BOM + code, 4 the header again (a second file pasted on), 5 BOM +
    # header; 2 and 6 good.
    'bom-in-middle.csv': dict(exit=0, counts=(5, 2, 3), rejects=[(3, 1), (4, 1), (5, 1)]),
    # Blank lines (LF, CRLF) are skipped and not counted, and so is 5 ",,,"
    # (cells all empty: Excel's trailing rows); 4 "   " is one field (past 3
    # characters: 4); 8 "\t" is one field (2); 6 and 9 good.
    'empty-lines.csv': dict(exit=0, counts=(4, 2, 2), rejects=[(4, 4), (8, 2)]),
    'header-only.csv': dict(exit=0, counts=(0, 0, 0), rejects=[]),
    'header-only-no-newline.csv': dict(exit=0, counts=(0, 0, 0), rejects=[]),
    'empty.csv': dict(exit=2, counts=(0, 0, 0), rejects=[], at=(1, 1)),
    'only-blank-lines.csv': dict(exit=2, counts=(0, 0, 0), rejects=[], at=(1, 1)),
    # CR-only line ends: the whole file is one header line whose 4th field is
    # "value\r430602001001": 'indicator' (at 13) without 'value'.
    'cr-only.csv': dict(exit=2, counts=(0, 0, 0), rejects=[], at=(1, 13)),
    # UTF-16 (as Excel's "Unicode text"): no 'region_code' in the header.
    'utf16.csv': dict(exit=2, counts=(0, 0, 0), rejects=[], at=(1, 1)),
    'semicolons.csv': dict(exit=2, counts=(0, 0, 0), rejects=[], at=(1, 1)),
    'tabs.csv': dict(exit=2, counts=(0, 0, 0), rejects=[], at=(1, 1)),
    # 2: a trailing comma, 5 fields: the 5th at 12+1+4+1+7+1+1+1 = 28 -> 29;
    # 3 good; 4 ",,,,," six empty cells: skipped as an empty row.
    'trailing-commas.csv': dict(exit=0, counts=(2, 1, 1), rejects=[(2, 29)]),
    # Wide. 2 good; 3 pop "x" at 12+1+7+1+1+1 = 23 -> 24 (nothing of the row
    # is stored: poor stays missing for 430602001002); 4 four fields of 5,
    # past 25 characters; 5 repeats 2 (duplicate at its first indicator,
    # 12+1+7+1 = 21 -> 22); 6 good.
    'wide-errors.csv': dict(exit=0, counts=(5, 2, 3), rejects=[(3, 24), (4, 26), (5, 22)],
                            values=[('430602001001', 'poor', '2019-01', '1'),
                                    ('430602001002', 'poor', '2019-01', ''),
                                    ('430602001001', 'exits', '2019-02', '1')]),
    # Spaces around a code, an indicator (14) or a period (12+1+4+1 = 18 ->
    # 19) are refused; around a number they are allowed (6).
    'spaces.csv': dict(exit=0, counts=(5, 1, 4), rejects=[(2, 1), (3, 1), (4, 14), (5, 19)]),
    # The same cell three times (the third empty): the first counts.
    'duplicates.csv': dict(exit=0, counts=(3, 1, 2), rejects=[(3, 1), (4, 1)]),
    # Values at 12+1+4+1+7+1 = 26 -> 27: nan, inf, 1e400, 0x10, "1,5" (not
    # a group of three), 1.5.2, 12% refused; full-width １２ (line 8, as
    # Excel leaves it) and 1e3 (line 9) accepted.
    'numbers.csv': dict(exit=0, counts=(9, 2, 7),
                        rejects=[(2, 27), (3, 27), (4, 27), (5, 27), (6, 27), (7, 27), (10, 27)]),
    # Periods at 12+1+5+1 = 19 -> 20: 2019/01, 2019-1, 201901, 2019-Q5,
    # 2019-00 and empty refused; 2019年1月 (as Excel writes 2019-01) and
    # 2019-Q4 accepted.
    'periods.csv': dict(exit=0, counts=(8, 2, 6),
                        rejects=[(2, 20), (3, 20), (4, 20), (6, 20), (7, 20), (8, 20)]),
    # An indicator column given twice in a wide header makes the header
    # unusable, at the second 'poor' (11+1+6+1+4+1+3+1 = 28 -> 29) (was B1:
    # every row rejected as "out of memory" at line 0, half stored).
    'wide-duplicate-column.csv': dict(exit=2, counts=(0, 0, 0), rejects=[], at=(1, 29)),
    # 'value' twice in a long header: which one holds the value? Refused at
    # the second (11+1+9+1+6+1+5+1 = 35 -> 36) (was B8: the first was read).
    'long-duplicate-column.csv': dict(exit=2, counts=(0, 0, 0), rejects=[], at=(1, 36)),
}

# Checks of what the messages say: (file, bug, what must hold, test). A bug
# id marks a check of behaviour not there yet: it runs with --known-bugs
# only. `rejects` are the rejects CSV's rows, `stderr` the program's.
MESSAGES = [
    # was B3
    ('cr-only.csv', None, 'the message names the CR line endings',
     lambda stderr, rejects: re.search(r'line (end|break)|carriage return',
                                       stderr.replace('cr-only.csv', ''), re.I)),
    # was B2: the rejected row keeps every byte's place (a NUL as U+FFFD)
    ('nul-bytes.csv', None, 'the rejected row keeps the text after a NUL byte',
     lambda stderr, rejects: any(r[1] == '2' and r[4].endswith('01,poor,2019-01,1')
                                 for r in rejects)),
    # was B5
    ('utf16.csv', None, 'a UTF-16 file is named as such',
     lambda stderr, rejects: 'UTF-16' in stderr),
    # was B6
    ('bom-in-middle.csv', None, 'a byte order mark inside the file is named',
     lambda stderr, rejects: all(re.search(r'byte order mark|BOM|U\+FEFF', r[3])
                                 for r in rejects if r[1] in ('3', '5'))),
    # B2b: the reasons still quote the field only up to the NUL: "unknown
    # region code '4306020010'", "bad number '2'" (the cell is "2\0").
    ('nul-bytes.csv', None, 'the reasons show or name the NUL byte',
     lambda stderr, rejects: len(rejects) == 3 and all(
         re.search('NUL|\ufffd|\\\\0|\\\\x00', r[3]) for r in rejects[:2])),
]


def check_records(case, path, exp, hierarchy, definitions, tmp, extra=()):
    global checked
    checked += 1
    rejects_path = os.path.join(tmp, 'rejects.csv')
    # A stale rejects file must not survive a run (B7).
    with open(rejects_path, 'w') as f:
        f.write('stale\n')
    out_path = os.path.join(tmp, 'out.csv')
    code, _, err = run(['-H', hierarchy, '-d', definitions, '-r', path, '--on-error', 'collect',
                        '--rejects', rejects_path, '-o', out_path] + list(extra))
    collect_err = err
    if code not in (0, 2):
        fail(case, f'exit status {code} (a crash?); stderr: {err!r}')
        return None, [], err
    if code != exp['exit']:
        fail(case, f'exit status {code}, expected {exp["exit"]}; stderr: {err!r}')
    counts = summary(case, err)
    if counts is not None and counts != exp['counts']:
        fail(case, f'rows read/accepted/rejected {counts}, expected {exp["counts"]}')
    if 'at' in exp:
        where = f'{path}:{exp["at"][0]}:{exp["at"][1]}: '
        if f'tally rollup: {where}' not in err:
            fail(case, f'no message at {where!r}: {err!r}')
    rejects = []
    with open(rejects_path, 'rb') as f:
        stale = f.read() == b'stale\n'
    if exp['counts'][2] or not stale:
        rejects = read_rejects(case, rejects_path)
        got = [(int(r[1]), int(r[2])) for r in rejects]
        if got != exp['rejects']:
            fail(case, f'rejected rows at {got}, expected {exp["rejects"]}')
        for r in rejects:
            if r[0] != path or not r[3] or len(r) != 5:
                fail(case, f'bad rejects row {r!r}')
    for r in rejects:
        if 'reasons' in exp and exp['reasons'] not in r[3]:
            fail(case, f'reason {r[3]!r} does not say {exp["reasons"]!r}')
    if code == 0 and 'values' in exp:
        with open(out_path, encoding='utf-8') as f:
            out = f.read()
        for region, ind, period, want in exp['values']:
            got = output_value(out, region, ind, period)
            if got != want:
                fail(case, f'rollup value {region} {ind} {period} is {got!r}, expected {want!r}')

    # Stop mode: the first bad row ends the read, with its own location.
    code, _, err = run(['-H', hierarchy, '-d', definitions, '-r', path, '-o', out_path]
                       + list(extra))
    counts = summary(case + ' (stop)', err)
    first = exp['rejects'][0] if exp['rejects'] else None
    want_exit = 2 if first or exp['exit'] == 2 else 0
    if code != want_exit:
        fail(case + ' (stop)', f'exit status {code}, expected {want_exit}')
    if counts and counts[2] > 1:
        fail(case + ' (stop)', f'{counts[2]} rows rejected in stop mode')
    if first and f'{path}:{first[0]}:{first[1]}: ' not in err:
        fail(case + ' (stop)', f'no message at line {first[0]} column {first[1]}: {err!r}')
    return stale, rejects, collect_err


# ---- generated records: too big to keep in the repository -------------

def generated(tmp):
    """(name, content bytes, expectation)."""
    cases = []
    hdr = b'region_code,indicator,period,value\n'
    # A 10 MB code (past the default limit of 1 MiB a field), a 1 MB number
    # (out of range), a 1 MB quoted text value, between good rows.
    big = (hdr + b'430602001001,poor,2019-01,1\n' + b'4' * 10_000_000 + b',poor,2019-01,1\n'
           + b'430602001002,poor,2019-01,' + b'9' * 1_000_000 + b'\n'
           + b'430626100201,poor,2019-01,"' + b'x' * 1_000_000 + b'"\n'
           + b'430626100201,pop,2019-01,4\n')
    cases.append(('huge-fields.csv', big,
                  dict(exit=0, counts=(5, 2, 3), rejects=[(3, 1), (4, 27), (5, 27)])))
    # 1000 columns (996 declared in ignore_columns, long format); a row of 4
    # fields (past 12+1+4+1+7+1+1 = 27 characters: 28); a row of 100001
    # empty fields, past the default limit of 4096 fields a row (at the
    # 4097th field).
    extra = b','.join(b'c%d' % i for i in range(996))
    cols = (b'region_code,indicator,period,value,' + extra + b'\n'
            + b'430602001001,poor,2019-01,1,' + b','.join(b'x' for _ in range(996)) + b'\n'
            + b'430602001002,poor,2019-01,1\n' + b',' * 100000 + b'\n')
    cases.append(('thousand-columns.csv', cols,
                  dict(exit=0, counts=(3, 1, 2), rejects=[(3, 28), (4, 4097)],
                       ignore=[f'c{i}' for i in range(996)])))
    # The same columns undeclared: the header is refused at the first of
    # them, after "region_code,indicator,period,value," (35 characters).
    cases.append(('thousand-undeclared-columns.csv', cols,
                  dict(exit=2, counts=(0, 0, 0), rejects=[], at=(1, 36))))
    # Wide with 1000 columns that are not indicators: the header is refused
    # at the first, after "region_code,period," (11+1+6+1 = 19 characters).
    wide = (b'region_code,period,' + b','.join(b'n%d' % i for i in range(998)) + b'\n'
            + b'430602001001,2019-01,' + b','.join(b'1' for _ in range(998)) + b'\n')
    cases.append(('thousand-unknown-columns.csv', wide,
                  dict(exit=2, counts=(0, 0, 0), rejects=[], at=(1, 20))))
    # 50,000 rows over 3 villages x 3 indicators x 240 months, drawn at
    # random (so most cells repeat: duplicates), every 97th value bad. The
    # expectation is a plain model: a row is accepted when its value is good
    # and its cell was not accepted before.
    rng = random.Random(7)
    villages = ['430602001001', '430602001002', '430626100201']
    inds = ['poor', 'pop', 'exits']
    rows, seen, expect_rej = [hdr], set(), []
    for i in range(50_000):
        v, ind = rng.choice(villages), rng.choice(inds)
        y, m = 2000 + rng.randrange(20), 1 + rng.randrange(12)
        bad = i % 97 == 0
        value = b'x' if bad else str(rng.randrange(1000)).encode()
        line = i + 2
        key = (v, ind, y, m)
        if bad:
            expect_rej.append((line, 27 + len(ind) - 4))  # value after code, ind, period
        elif key in seen:
            expect_rej.append((line, 1))
        else:
            seen.add(key)
        rows.append(b'%s,%s,%d-%02d,%s\n' % (v.encode(), ind.encode(), y, m, value))
    cases.append(('fifty-thousand-rows.csv', b''.join(rows),
                  dict(exit=0, counts=(50_000, 50_000 - len(expect_rej), len(expect_rej)),
                       rejects=expect_rej)))
    return cases


# ---- hierarchies --------------------------------------------------------
#
# Per file: the exit status of `tally rollup -H file` and, for an error,
# the location of the message.

HIERARCHIES = {
    'duplicate-code.csv': dict(exit=2, at=(3, 1)),
    'empty.csv': dict(exit=2, at=(1, 1)),
    # GBK 湖南 after "430000000000,": valid GB18030 too, so read as such by
    # default (tests/check/check-office-input.py); forced UTF-8, refused.
    'invalid-utf8-name.csv': dict(exit=2, at=(2, 14), args=['--hierarchy-encoding', 'utf-8']),
    'nul-in-code.csv': dict(exit=2, at=(3, 1)),
    'quotes-newlines.csv': dict(exit=0),                 # valid: blank lines, "" and a newline
    'short-row.csv': dict(exit=2, at=(2, 26)),           # past 12+1+3+1+8 = 25 characters
    'unterminated-quote.csv': dict(exit=2, at=(2, 14)),  # the opening quote
    'utf16.csv': dict(exit=2, at=(1, 1)),
    # CR-only line ends make one header line and no region: refused, not
    # read as an empty hierarchy (was H1).
    'cr-only.csv': dict(exit=2),
    # A hierarchy without a single region is refused (was H2).
    'header-only.csv': dict(exit=2),
    # A code with a byte order mark or a space around it can never match a
    # record: refused where it stands (was H3).
    'bom-in-code.csv': dict(exit=2, at=(3, 1)),
    'space-in-code.csv': dict(exit=2, at=(3, 1)),
}

# H1b: the CR-only hierarchy is refused as "no regions"; the message should
# name the line breaks, as the records reader's does.
HIERARCHY_MESSAGES = [
    ('cr-only.csv', None, 'the message names the CR line breaks',
     lambda stderr: re.search(r'line (end|break)|carriage return',
                              stderr.replace('cr-only.csv', ''), re.I)),
]


def check_hierarchy(case, path, exp, definitions, records):
    global checked
    checked += 1
    code, _, err = run(['-H', path, '-d', definitions, '-r', records, '--on-error', 'collect',
                        '-o', os.devnull] + exp.get('args', []))
    if code not in (0, 2):
        fail(case, f'exit status {code} (a crash?); stderr: {err!r}')
        return err
    if code != exp['exit']:
        fail(case, f'exit status {code}, expected {exp["exit"]}; stderr: {err!r}')
        return err
    if code == 0:
        counts = summary(case, err)
        if counts != (1, 1, 0):
            fail(case, f'the region of records.csv was not found: {err!r}')
    elif 'at' in exp and f'tally rollup: {path}:{exp["at"][0]}:{exp["at"][1]}: ' not in err:
        fail(case, f'no message at line {exp["at"][0]} column {exp["at"][1]}: {err!r}')
    elif code == 2 and not re.search(r'tally rollup: .+: .', err):
        fail(case, f'no message naming the file: {err!r}')
    return err


def main():
    hierarchy = os.path.join(BROKEN, 'hierarchy.csv')
    definitions = os.path.join(BROKEN, 'definitions.yaml')
    records = os.path.join(BROKEN, 'records.csv')
    rdir = os.path.join(BROKEN, 'records')
    hdir = os.path.join(BROKEN, 'hierarchy')
    for d, table in ((rdir, RECORDS), (hdir, HIERARCHIES)):
        on_disk = set(f for f in os.listdir(d) if f.endswith('.csv'))
        if on_disk != set(table):
            fail(d, f'files without expectations or missing: {sorted(on_disk ^ set(table))}')
    with tempfile.TemporaryDirectory() as tmp:
        for name, exp in sorted(RECORDS.items()):
            if bool(exp.get('bug')) != KNOWN_BUGS:
                continue
            case = f'records/{name}' + (f' [{exp["bug"]}]' if 'bug' in exp else '')
            check_records(case, os.path.join(rdir, name), exp, hierarchy, definitions, tmp)
            if 'encoded' in exp and not KNOWN_BUGS:
                enc = exp['encoded']
                check_records(case + f' (--encoding {enc["encoding"]})', os.path.join(rdir, name),
                              dict(exp, reasons=enc['reasons']),
                              os.path.join(BROKEN, enc['hierarchy']), definitions, tmp,
                              ['--encoding', enc['encoding']])
        for name, bug, what, ok in MESSAGES:
            if bool(bug) != KNOWN_BUGS:
                continue
            case = f'records/{name}' + (f' [{bug}]' if bug else '') + ' (message)'
            _, rejects, err = check_records(case, os.path.join(rdir, name), RECORDS[name],
                                            hierarchy, definitions, tmp)
            if not ok(err, rejects):
                fail(case, f'{what}: stderr {err!r}, rejects {rejects!r}')
        if not KNOWN_BUGS:
            # With --rejects and nothing rejected, the file is still written
            # (header only), so that an old one does not linger (was B7).
            stale, rejects, _ = check_records('records/header-only.csv (rejects file)',
                                              os.path.join(rdir, 'header-only.csv'),
                                              RECORDS['header-only.csv'], hierarchy,
                                              definitions, tmp)
            if stale:
                fail('records/header-only.csv',
                     '--rejects FILE with no rejected rows left an old FILE in place')
            for name, content, exp in generated(tmp):
                path = os.path.join(tmp, name)
                with open(path, 'wb') as f:
                    f.write(content)
                defs = definitions
                if 'ignore' in exp:
                    defs = os.path.join(tmp, 'ignore-definitions.yaml')
                    with open(definitions, encoding='utf-8') as f, \
                            open(defs, 'w', encoding='utf-8') as g:
                        g.write('ignore_columns: [' + ', '.join(exp['ignore']) + ']\n')
                        g.write(f.read())
                check_records(f'generated/{name}', path, exp, hierarchy, defs, tmp)
        for name, exp in sorted(HIERARCHIES.items()):
            if bool(exp.get('bug')) != KNOWN_BUGS:
                continue
            case = f'hierarchy/{name}' + (f' [{exp["bug"]}]' if 'bug' in exp else '')
            check_hierarchy(case, os.path.join(hdir, name), exp, definitions, records)
        for name, bug, what, ok in HIERARCHY_MESSAGES:
            if bool(bug) != KNOWN_BUGS:
                continue
            case = f'hierarchy/{name}' + (f' [{bug}]' if bug else '') + ' (message)'
            err = check_hierarchy(case, os.path.join(hdir, name), HIERARCHIES[name], definitions,
                                  records)
            if not ok(err):
                fail(case, f'{what}: stderr {err!r}')
    for f in failures:
        print('FAIL', f)
    print(f'{checked} files checked, {len(failures)} failures'
          + (' (known bugs: see the hardening bug list)' if KNOWN_BUGS and failures else ''))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
