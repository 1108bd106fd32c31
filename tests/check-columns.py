#!/usr/bin/python3
"""Header names: the definitions' `columns:` and the Chinese names of the
targets and households columns (docs/input-files.md).

Usage: check-columns.py TALLY DATA_DIR

Each demo input is written again with another header, and the output
expected is tally's on the input as it was (the header is the only change):
1. records headed 单位代码,指标,时期,本月数 with `columns: { region_code:
   单位代码, value: 本月数 }` appended to the definitions: the same rollup;
   without the mapping, refused (exit 2) at 1:1.
2. `columns:` with an unknown key: refused at the key's line and column
   (the line appended last, column 3 after two spaces: counted by hand),
   naming the keys expected; an empty header name refused too.
3. targets headed 区划代码,指标,年份,目标: the same progress report.
4. households headed 户编号,区划代码,家庭人口,人均纯收入,权数,年份: the
   same poverty measures.
"""
import os
import subprocess
import sys
import tempfile

TALLY, DATA = sys.argv[1], sys.argv[2]
H = os.path.join(DATA, 'yueyang-hierarchy.csv')
D = os.path.join(DATA, 'yueyang.yaml')
tmp = tempfile.mkdtemp(prefix='columns-')
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print('FAIL:', what)


def tally(*args):
    return subprocess.run([TALLY, *args], capture_output=True, text=True)


def rehead(src, name, header):
    with open(src, encoding='utf-8') as f:
        lines = f.read().splitlines(keepends=True)
    path = os.path.join(tmp, name)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(header + '\n')
        f.writelines(lines[1:])
    return path


def definitions(name, extra):
    path = os.path.join(tmp, name)
    with open(D, encoding='utf-8') as f:
        text = f.read()
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text if text.endswith('\n') else text + '\n')
        f.write(extra)
    return path, text.count('\n') + (0 if text.endswith('\n') else 1)


records = os.path.join(DATA, 'yueyang-2019.csv')
renamed = rehead(records, 'records.csv', '单位代码,指标,时期,本月数')
mapped, n = definitions('mapped.yaml', 'columns: { region_code: 单位代码, value: 本月数 }\n')
want = tally('rollup', '-H', H, '-d', D, '-r', records)
got = tally('rollup', '-H', H, '-d', mapped, '-r', renamed)
check(want.returncode == 0 and got.returncode == 0, f'rollup: {got.stderr}')
check(got.stdout == want.stdout and want.stdout, 'records through columns: the rollup differs')
r = tally('rollup', '-H', H, '-d', D, '-r', renamed)
check(r.returncode == 2 and f'{renamed}:1:1: ' in r.stderr,
      f'without columns: expected a refusal at 1:1, got {r.returncode} {r.stderr!r}')

bad, n = definitions('bad.yaml', 'columns:\n  regoin_code: 单位代码\n')
r = tally('rollup', '-H', H, '-d', bad, '-r', renamed)
where = f'{bad}:{n + 2}:3: '
check(r.returncode == 2 and where in r.stderr and 'region_code' in r.stderr,
      f'unknown key: expected {where!r} naming region_code, got {r.stderr!r}')
empty, n = definitions('empty.yaml', 'columns:\n  value: ""\n')
r = tally('rollup', '-H', H, '-d', empty, '-r', renamed)
check(r.returncode == 2 and f'{empty}:{n + 2}:10: ' in r.stderr,
      f'empty name: expected {empty}:{n + 2}:10, got {r.stderr!r}')
notmap, n = definitions('notmap.yaml', 'columns: [单位代码]\n')
r = tally('rollup', '-H', H, '-d', notmap, '-r', renamed)
check(r.returncode == 2 and f'{notmap}:{n + 1}:10: ' in r.stderr,
      f'a list: expected {notmap}:{n + 1}:10, got {r.stderr!r}')

targets = os.path.join(DATA, 'yueyang-targets-2019.csv')
zh_targets = rehead(targets, 'targets.csv', '区划代码,指标,年份,目标')
args = ['progress', '-H', H, '-d', D, '-r', records, '--as-of', '2019-08']
want = tally(*args, '-t', targets)
got = tally(*args, '-t', zh_targets)
check(want.returncode == 0 and got.returncode == 0, f'progress: {got.stderr}')
check(got.stdout == want.stdout and want.stdout, 'targets with Chinese names: progress differs')

households = os.path.join(DATA, 'yueyang-households-2019.csv')
zh_households = rehead(households, 'households.csv', '户编号,区划代码,家庭人口,人均纯收入,权数,年份')
want = tally('poverty', '-H', H, '-d', D, '--households', households)
got = tally('poverty', '-H', H, '-d', D, '--households', zh_households)
check(want.returncode == 0 and got.returncode == 0, f'poverty: {got.stderr}')
check(got.stdout == want.stdout and want.stdout, 'households with Chinese names: poverty differs')

sys.exit(1 if failures else 0)
