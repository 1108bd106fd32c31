#!/usr/bin/python3
"""tally's messages in Chinese under a Chinese locale (po/zh_CN.po).

Usage: check-messages-zh.py TALLY DATA_DIR   ($TALLY_LOCALEDIR: <build>/po)

1. `tally rollup` on examples/data/bad-records.csv, whose third line has a
   fifth field (column 40 is its comma, counted by hand): under
   LANG=zh_CN.UTF-8 the message is Chinese, with file:line:column; with no
   locale, and under LANG=C.UTF-8, the English one. Whether zh_CN.UTF-8 is
   generated on the machine or not (the CLI falls back to C.UTF-8 with the
   language named), and with LANGUAGE=zh_CN alone.
2. With --on-error collect, the rejected rows' reasons in Chinese and the
   summary line's counts (8 rows read, 2 accepted, 6 rejected: the file's
   rows counted by hand); a row whose region code is known has the
   region's name beside the code (names from yueyang-hierarchy.csv), an
   unknown code has none.
3. The numbers: stdout of a rollup of the demo records is byte-identical
   under LANG=zh_CN.UTF-8, LC_ALL=zh_CN.UTF-8 and no locale (LC_NUMERIC is
   never taken from the environment).
"""
import os
import subprocess
import sys

TALLY, DATA = sys.argv[1], sys.argv[2]
H = os.path.join(DATA, 'yueyang-hierarchy.csv')
D = os.path.join(DATA, 'yueyang.yaml')
BAD = os.path.join(DATA, 'bad-records.csv')
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print('FAIL:', what)


def run(env_extra, *args):
    env = {k: v for k, v in os.environ.items()
           if k not in ('LANG', 'LANGUAGE') and not k.startswith('LC_')}
    env.update(env_extra)
    return subprocess.run([TALLY, 'rollup', '-H', H, '-d', D, *args], env=env,
                          capture_output=True, text=True)


where = BAD + ':3:40: '
# The row's region, 430602001002, is 汴河社区 in the hierarchy file.
zh = where + '该行有 5 个字段；应与表头一样有 4 个（430602001002 汴河社区）'
en = where + 'row has 5 fields; expected 4 as in the header (430602001002 汴河社区)'

for env in ({'LANG': 'zh_CN.UTF-8'}, {'LC_ALL': 'zh_CN.UTF-8'}, {'LC_MESSAGES': 'zh_CN.UTF-8'},
            {'LANG': 'C.UTF-8', 'LANGUAGE': 'zh_CN'}, {'LANGUAGE': 'zh_CN'}):
    r = run(env, '-r', BAD)
    check(r.returncode == 2, f'{env}: exit {r.returncode}, expected 2')
    check(zh in r.stderr, f'{env}: no Chinese message with file:line:column in {r.stderr!r}')
    check('记录：共读取 2 行 = 接收 1 行 + 拒收 1 行' in r.stderr,
          f'{env}: no Chinese summary in {r.stderr!r}')

for env in ({}, {'LANG': 'C.UTF-8'}, {'LANG': 'C'}, {'LANG': 'en_US.UTF-8'}):
    r = run(env, '-r', BAD)
    check(r.returncode == 2, f'{env}: exit {r.returncode}, expected 2')
    check(en in r.stderr, f'{env}: no English message in {r.stderr!r}')
    check(not any('\u4e00' <= ch <= '\u9fff' for ch in r.stderr.replace('汴河社区', '')),
          f'{env}: Chinese in {r.stderr!r}')

r = run({'LANG': 'zh_CN.UTF-8'}, '-r', BAD, '--on-error', 'collect')
check(r.returncode == 0, f'collect: exit {r.returncode}')
for text in ('记录：共读取 8 行 = 接收 2 行 + 拒收 6 行',
             "拒收 " + BAD + ":4:14: 未知指标 'poor_populaton'；应为定义文件中的指标代码",
             "拒收 " + BAD + ":5:1: 未知区划代码 '430602001099'；应为层级表中的代码",
             "拒收 " + BAD + ":6:30: 时期 '2019-13' 有误；应为 YYYY-MM、YYYY-Qn 或 YYYY"
             "（430602001004 岳阳楼社区）"):
    check(text in r.stderr, f'collect: no {text!r} in {r.stderr!r}')

records = os.path.join(DATA, 'yueyang-2019.csv')
outs = [run(env, '-r', records).stdout
        for env in ({}, {'LANG': 'zh_CN.UTF-8'}, {'LC_ALL': 'zh_CN.UTF-8'})]
check(outs[0] and '.' in outs[0], 'the rollup printed no decimal numbers')
check(outs[1] == outs[0] and outs[2] == outs[0],
      'the rollup printed under a Chinese locale differs from the C one')

sys.exit(1 if failures else 0)
