#!/usr/bin/python3
"""Every message has its Chinese translation (po/zh_CN.po).

Usage: check-translations.py SOURCE_ROOT XGETTEXT_ARG...

The catalogue's template is made again here from the sources as they are
now (every lib/*.c and examples/*.c, not only those po/POTFILES lists), so
a message added without its translation fails this test. Also fails when
po/POTFILES misses a source file with messages (ninja tally-pot would leave
its messages out), and when msgfmt --check finds a translation whose
printf directives do not match its message's.

A message whose text ends in a macro ("bad period '%s'; expected "
TALLY_PERIOD__FORMS) is looked up whole at run time, but xgettext reads it
only up to the macro: the macros of lib/*.h that are string literals are
expanded at every such call here, and the whole text must be extracted
(lib/error.c writes such messages whole) and translated.
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

ROOT, ARGS = sys.argv[1], sys.argv[2:]
os.chdir(ROOT)
failures = []


def unquote(s):
    out, i = [], 0
    s = s[1:-1]
    escapes = {'n': '\n', 't': '\t', '"': '"', '\\': '\\', 'r': '\r'}
    while i < len(s):
        if s[i] == '\\' and i + 1 < len(s):
            out.append(escapes.get(s[i + 1], '\\' + s[i + 1]))
            i += 2
        else:
            out.append(s[i])
            i += 1
    return ''.join(out)


def entries(path):
    """{msgid: (msgstr, fuzzy)} of a .po or .pot file."""
    result, msgid, msgstr, field, fuzzy = {}, None, None, None, False

    def flush():
        if msgid is not None and msgstr is not None:
            result[msgid] = (msgstr, fuzzy)

    for line in open(path, encoding='utf-8'):
        line = line.rstrip('\n')
        if line.startswith('#,'):
            flush()
            msgid = msgstr = None
            fuzzy = 'fuzzy' in line
        elif line.startswith('msgid '):
            if msgstr is not None:
                flush()
                fuzzy = False
            msgid, msgstr, field = unquote(line[6:]), None, 'msgid'
        elif line.startswith('msgstr '):
            msgstr, field = unquote(line[7:]), 'msgstr'
        elif line.startswith('"'):
            if field == 'msgid':
                msgid += unquote(line)
            else:
                msgstr += unquote(line)
    flush()
    return result


sources = sorted(glob.glob('lib/*.c') + glob.glob('examples/*.c'))
with tempfile.TemporaryDirectory() as tmp:
    pot = os.path.join(tmp, 'tally.pot')
    subprocess.run(['xgettext', *ARGS, '-o', pot, *sources], check=True)
    wanted = {k: v for k, v in entries(pot).items() if k}
    # Which files hold messages: po/POTFILES must name each.
    listed = set(open('po/POTFILES').read().split())
    for src in sources:
        if src in listed:
            continue
        one = os.path.join(tmp, 'one.pot')
        subprocess.run(['xgettext', *ARGS, '-o', one, src], check=True)
        if os.path.exists(one) and any(k for k in entries(one)):
            failures.append(f'po/POTFILES does not list {src}, which has messages')
            os.remove(one)

LITERAL = r'"(?:[^"\\\n]|\\.)*"'
macros = {}
for header in glob.glob('lib/*.h'):
    text = open(header, encoding='utf-8').read().replace('\\\n', ' ')
    for name, value in re.findall(r'^#define\s+(\w+)\s+((?:' + LITERAL + r'\s*)+)$', text, re.M):
        macros[name] = ''.join(unquote(lit) for lit in re.findall(LITERAL, value))
ending = re.compile(r'((?:' + LITERAL + r'\s*)+)\b(' + '|'.join(macros or ['$^']) + r')\b')
whole = set()
for src in sources:
    for lits, name in ending.findall(open(src, encoding='utf-8').read()):
        whole.add((''.join(unquote(lit) for lit in re.findall(LITERAL, lits)) + macros[name],
                   src, name))
for text, src, name in sorted(whole):
    if text not in wanted:
        failures.append(f'{src}: a message ending in {name} is not written whole for xgettext '
                        f'(lib/error.c): {text!r}')
        wanted[text] = None

have = entries('po/zh_CN.po')
missing = [m for m in wanted if m not in have or not have[m][0] or have[m][1]]
for m in missing:
    failures.append('no zh_CN translation of: ' + repr(m))
check = subprocess.run(['msgfmt', '--check', '--statistics', '-o', os.devnull, 'po/zh_CN.po'],
                       capture_output=True, text=True)
if check.returncode != 0:
    failures.append('msgfmt --check po/zh_CN.po:\n' + check.stderr)

print(f'{len(wanted)} messages in the sources ({len(whole)} ending in a macro), '
      f'{len(wanted) - len(missing)} translated')
for f in failures:
    print('FAIL:', f)
sys.exit(1 if failures else 0)
