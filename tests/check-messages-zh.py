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
4. One message of each area translated since, in Chinese under
   LANG=zh_CN.UTF-8 and in English under LANG=C, at the place counted by
   hand in the files written here: a categories error of the definitions;
   the hierarchy's checks after the last row (a cycle of parents, a level
   not below its parent's: its translation reorders the arguments); the
   messages that end in a macro (a bad --period, a number past 2^53); a
   file in the way of the hierarchy cache; `tally check`'s headings,
   aligned under the numbers; and, through the Python bindings
   ($TALLY_LIBRARY), a reason the dataset gives for an element of a batch.
5. `--help` in Chinese, its synopsis as in English; English under LANG=C.
"""
import os
import subprocess
import sys
import tempfile

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


def tally(env_extra, *args):
    env = {k: v for k, v in os.environ.items()
           if k not in ('LANG', 'LANGUAGE') and not k.startswith('LC_')}
    env.update(env_extra)
    return subprocess.run([TALLY, *args], env=env, capture_output=True, text=True)


ZH, EN = {'LANG': 'zh_CN.UTF-8'}, {'LANG': 'C'}
R = os.path.join(DATA, 'yueyang-2019.csv')
with tempfile.TemporaryDirectory() as tmp:
    def write(name, text):
        path = os.path.join(tmp, name)
        with open(path, 'w', encoding='utf-8') as f:
            f.write(text)
        return path

    def both(args, zh_text, en_text, what):
        for env, text in ((ZH, zh_text), (EN, en_text)):
            r = tally(env, *args)
            check(text in r.stderr, f'{what} under {env}: no {text!r} in {r.stderr!r}')

    # The second 'illness' is at line 7, column 24.
    cat = write('cat.yaml', 'levels: [province, city, county, town, village]\n'
                'indicators:\n  - id: poor_population\n    aggregate: sum\n'
                'categories:\n  - id: cause\n    options: [illness, illness]\n')
    both(['rollup', '-H', H, '-d', cat, '-r', R],
         cat + ":7:24: 选项 'illness' 在分类 'cause' 中给出两次；选项代码应各不相同",
         cat + ":7:24: option 'illness' given twice in category 'cause'", 'categories')
    # Line 3's parent cell (column 10) closes the cycle 2 -> 3 -> 2.
    cyc = write('cycle.csv', 'code,name,level,parent_code\n1,A,province,\n2,B,city,3\n'
                '3,C,city,2\n')
    both(['rollup', '-H', cyc, '-d', D, '-r', R],
         cyc + ':3:10: 上级代码构成循环：2 -> 3 -> 2（每个代码之后是它的上级）',
         cyc + ":3:10: cycle of parents: 2 -> 3 -> 2 (each code's parent follows it)",
         'cycle')
    # Line 4's level cell starts at column 16 (12 digits, ',', 'C', ',').
    lvl = write('levels.csv', 'code,name,level,parent_code\n430600000000,A,city,\n'
                '430602000000,B,county,430600000000\n430602001000,C,city,430602000000\n')
    both(['rollup', '-H', lvl, '-d', D, '-r', R],
         lvl + ":4:16: '430602001000' 的层级 'city' 不低于其上级 '430602000000'（第 3 行）"
         "的层级 'county'；应为低于 'county' 的层级\n",
         lvl + ":4:16: level 'city' of '430602001000' is not below the level 'county' of its "
         "parent '430602000000' (line 3); expected a level below 'county'\n", 'levels')
    both(['rollup', '-H', H, '-d', D, '-r', R, '--period', '2019-13'],
         "时期 '2019-13' 有误；应为 YYYY-MM、YYYY-Qn、YYYY，半年 YYYY-H1 或 YYYY-H2，"
         "或同一年内的范围 YYYY-MM..YYYY-MM 或 YYYY-Qn..YYYY-Qn",
         "bad period '2019-13'; expected YYYY-MM, YYYY-Qn, YYYY, a half YYYY-H1 or YYYY-H2, "
         "or a range of one year YYYY-MM..YYYY-MM or YYYY-Qn..YYYY-Qn", '--period')
    # The value starts at column 38 (12 + 1 + 15 + 1 + 7 + 1 characters before it).
    big = write('big.csv', 'region_code,indicator,period,value\n'
                '430602001002,poor_population,2019-01,9007199254740993\n')
    both(['rollup', '-H', H, '-d', D, '-r', big],
         big + ":2:38: 数值 '9007199254740993' 是超过 2^53 的整数，双精度浮点数无法精确表示",
         big + ":2:38: number '9007199254740993' is a whole number past 2^53", 'past 2^53')
    hcopy = write('h.csv', open(H, encoding='utf-8').read())
    write('h.csv.tallyh', 'not a cache\n')
    both(['rollup', '-H', hcopy, '--hierarchy-cache', '-d', D, '-r', R],
         hcopy + '.tallyh: 不是层级表缓存，未予替换',
         hcopy + '.tallyh: is not a hierarchy cache; not replaced', 'cache in the way')
    # %-20s then five %8zu: each heading ends where its numbers end, a
    # Chinese character two columns wide.
    both(['check', '-H', H, '-d', D, '-r', R, '-o', os.devnull],
         'tally check: 审核' + ' ' * 16 + '     项数     通过     警告   未通过     缺失\n',
         'tally check: check                   items   passes warnings    fails  missing\n',
         'check headings')

for args, zh_text, en_text in ((['rollup', '--help'], '用法： tally rollup -H hierarchy.csv',
                                 'Usage: tally rollup -H hierarchy.csv'),
                                (['--help'], '命令：\n  rollup     在层级表的每一级汇总\n',
                                 'Commands:\n  rollup     totals at every level')):
    for env, text in ((ZH, zh_text), (EN, en_text)):
        r = tally(env, *args)
        check(r.returncode == 0 and text in r.stdout,
              f'{args} under {env}: exit {r.returncode}, no {text!r} in {r.stdout!r}')

if 'address' not in os.environ.get('TALLY_SANITIZE', ''):
    script = (
        'import locale, sys, tally\n'
        'locale.setlocale(locale.LC_ALL, "")\n'
        'ds = tally.Dataset(tally.Hierarchy.from_csv(sys.argv[1]), '
        'tally.Definitions.from_yaml(sys.argv[2]))\n'
        'try:\n'
        '    ds.add(["430602001002", "430602001003"], ["poor_population", "nope"], "2019-12",'
        ' [1.0, 2.0])\n'
        'except tally.Error as e:\n'
        '    print(e)\n')
    for env, text in (({'LC_ALL': 'C.UTF-8', 'LANGUAGE': 'zh_CN'},
                       '第 1 个元素（区划 430602001003，指标 nope，时期 2019-12）：'
                       "未知指标 'nope'；应为定义文件中的指标代码"),
                      ({'LANG': 'C'}, 'element 1 (region 430602001003, indicator nope, period '
                       "2019-12): unknown indicator 'nope'; expected an id from the definitions")):
        e = {k: v for k, v in os.environ.items()
             if k not in ('LANG', 'LANGUAGE') and not k.startswith('LC_')}
        e.update(env)
        r = subprocess.run(['/usr/bin/python3', '-c', script, H, D], env=e, capture_output=True,
                           text=True)
        check(text in r.stdout, f'element of a batch under {env}: no {text!r} in '
              f'{r.stdout!r} {r.stderr!r}')

sys.exit(1 if failures else 0)
