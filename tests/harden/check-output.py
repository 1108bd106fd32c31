#!/usr/bin/env python3
"""Outputs never clobber: what `tally ... -o PATH` does to PATH (docs/output.md).

    check-output.py TALLY DATA_DIR

Runs the tally command line against the files it writes and checks the
file system afterwards, never what tally says about it:

  - a character device (made with mknod: a full one, 1:7, and a null one,
    1:3) is written through and stays a character device; writing to the
    full one fails with exit 2 and the errno text, for rollup and snapshot;
  - a FIFO is written through: the bytes read from its other end are
    those of the same output written to a regular file;
  - a symbolic link is followed: the file it leads to gets the output, the
    link stays a link to the same name;
  - a regular file is replaced: new inode, the old mode kept; a run whose
    write fails half way (a file size limit, RLIMIT_FSIZE, with SIGXFSZ
    ignored: EFBIG) leaves the previous output byte for byte and no
    temporary file;
  - an output naming an input (-H, -d, -r, -t, --households, --schedule,
    also through a link or a hard link) or another output: exit 2, a
    message naming both, the input unchanged byte for byte;
  - four concurrent `rollup -o same.csv` of different records files: all
    exit 0, the file equals exactly one of the four outputs (each made
    alone beforehand), no temporary file left; five rounds. (Written in
    place, as before, most rounds left a file equal to none.)
"""
import hashlib
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading

TALLY = os.path.abspath(sys.argv[1])
DATA = os.path.abspath(sys.argv[2])
H = os.path.join(DATA, 'yueyang-hierarchy.csv')
D = os.path.join(DATA, 'yueyang.yaml')
R = os.path.join(DATA, 'yueyang-2019.csv')
T = os.path.join(DATA, 'yueyang-targets-2019.csv')
HH = os.path.join(DATA, 'yueyang-households-2019.csv')
MODEL = ['-H', H, '-d', D]

failures = []
checked = 0


def check(ok, what):
    global checked
    checked += 1
    if not ok:
        failures.append(what)
        print('FAIL:', what)


def run(args, **kw):
    p = subprocess.run([TALLY] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=300, **kw)
    return p.returncode, p.stdout, p.stderr.decode('utf-8', 'replace')


def digest(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def hidden(directory):
    """Entries whose names start with '.': the temporary files."""
    return sorted(n for n in os.listdir(directory) if n.startswith('.'))


work = tempfile.mkdtemp(prefix='tally-check-output-')
os.chdir(work)

# The reference outputs, each written alone to a fresh name.
ROLLUP = ['rollup'] + MODEL + ['-r', R]
rc, _, err = run(ROLLUP + ['-o', 'ref.csv'])
check(rc == 0, f'reference rollup: exit {rc}: {err}')
REF = read('ref.csv')
check(len(REF) > 1_000_000, f'the reference output is {len(REF)} bytes; expected over 1 MB')
SNAP = ['snapshot'] + MODEL + ['-r', R]
rc, _, err = run(SNAP + ['-o', 'ref.snap'])
check(rc == 0, f'reference snapshot: exit {rc}: {err}')
REF_SNAP = read('ref.snap')

# ---- character devices ----------------------------------------------------

try:
    os.mknod('myfull', stat.S_IFCHR | 0o666, os.makedev(1, 7))
    os.mknod('mynull', stat.S_IFCHR | 0o666, os.makedev(1, 3))
    have_devices = True
except PermissionError:
    print('SKIP: mknod not permitted here (not root): the device checks did not run')
    have_devices = False

if have_devices:
    for cmd, args in (('snapshot', SNAP), ('rollup', ROLLUP)):
        rc, _, err = run(args + ['-o', 'myfull'])
        check(rc == 2, f'{cmd} -o myfull: exit {rc}, expected 2')
        check(f'myfull: cannot write the {"snapshot" if cmd == "snapshot" else "result"}: '
              f'{os.strerror(28)}' in err, f'{cmd} -o myfull: message {err!r}')
        st = os.lstat('myfull')
        check(stat.S_ISCHR(st.st_mode) and os.major(st.st_rdev) == 1 and
              os.minor(st.st_rdev) == 7, f'{cmd} -o myfull: myfull is no longer device 1:7')
        rc, _, err = run(args + ['-o', 'mynull'])
        check(rc == 0, f'{cmd} -o mynull: exit {rc}: {err}')
        st = os.lstat('mynull')
        check(stat.S_ISCHR(st.st_mode) and os.minor(st.st_rdev) == 3,
              f'{cmd} -o mynull: mynull is no longer device 1:3')
    check(hidden(work) == [], f'temporary files left beside the devices: {hidden(work)}')
    # Two outputs to one device are not the same file to clobber.
    rc, _, err = run(ROLLUP + ['--on-error', 'collect', '-o', 'mynull', '--rejects', 'mynull'])
    check(rc == 0, f'-o mynull --rejects mynull: exit {rc}: {err}')

rc, _, err = run(ROLLUP + ['-o', '/dev/null'])
check(rc == 0 and stat.S_ISCHR(os.stat('/dev/null').st_mode), f'-o /dev/null: exit {rc}: {err}')

# ---- a FIFO: written through, read from the other end ----------------------

os.mkfifo('pipe')
got = {}


def drain():
    with open('pipe', 'rb') as f:
        got['bytes'] = f.read()


reader = threading.Thread(target=drain)
reader.start()
rc, _, err = run(ROLLUP + ['-o', 'pipe'])
reader.join(60)
check(rc == 0, f'-o pipe: exit {rc}: {err}')
check(got.get('bytes') == REF, f'-o pipe: {len(got.get("bytes", b""))} bytes read from the FIFO, '
      f'expected the {len(REF)} of the reference output')
check(stat.S_ISFIFO(os.lstat('pipe').st_mode), '-o pipe: pipe is no longer a FIFO')

# ---- a symbolic link: followed, kept ---------------------------------------

os.mkdir('sub')
with open('sub/real.csv', 'w') as f:
    f.write('previous\n')
os.chmod('sub/real.csv', 0o640)
os.symlink('real.csv', 'sub/link.csv')
os.symlink('sub/link.csv', 'chain.csv')  # a link to a link, relative at each step
rc, _, err = run(ROLLUP + ['-o', 'chain.csv'])
check(rc == 0, f'-o chain.csv: exit {rc}: {err}')
check(os.path.islink('chain.csv') and os.readlink('chain.csv') == 'sub/link.csv',
      '-o chain.csv: chain.csv is no longer a link to sub/link.csv')
check(os.path.islink('sub/link.csv') and os.readlink('sub/link.csv') == 'real.csv',
      '-o chain.csv: sub/link.csv is no longer a link to real.csv')
check(read('sub/real.csv') == REF, '-o chain.csv: sub/real.csv does not hold the output')
check(stat.S_IMODE(os.stat('sub/real.csv').st_mode) == 0o640,
      '-o chain.csv: sub/real.csv lost its mode 0640')
check(hidden('sub') == [] and hidden(work) == [], 'temporary files left behind a link')

# ---- a regular file: replaced, or kept when the write fails -----------------

with open('out.csv', 'w') as f:
    f.write('the previous output\n')
os.chmod('out.csv', 0o604)
ino = os.stat('out.csv').st_ino
rc, _, err = run(ROLLUP + ['-o', 'out.csv'])
check(rc == 0 and read('out.csv') == REF, f'-o out.csv: exit {rc}, or not the output: {err}')
st = os.stat('out.csv')
check(st.st_ino != ino, '-o out.csv: written in place, expected a new file renamed over it')
check(stat.S_IMODE(st.st_mode) == 0o604, f'-o out.csv: mode {oct(st.st_mode)}, expected 0604')


def small_file_limit():
    # 64 KiB: the output stops half way with EFBIG instead of a signal.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))


for cmd, args, what in (('rollup', ROLLUP, 'result'), ('snapshot', SNAP, 'snapshot')):
    name = f'kept.{cmd}'
    with open(name, 'w') as f:
        f.write('the previous output\n')
    rc, _, err = run(args + ['-o', name], preexec_fn=small_file_limit)
    check(rc == 2, f'{cmd} past the file size limit: exit {rc}, expected 2')
    check(f'{name}: cannot write the {what}: {os.strerror(27)}' in err,
          f'{cmd} past the file size limit: message {err!r}')
    check(read(name) == b'the previous output\n',
          f'{cmd} past the file size limit: the previous output was not kept')
    check(hidden(work) == [], f'{cmd} past the file size limit: left {hidden(work)}')

# ---- outputs that are inputs, or each other ---------------------------------

shutil.copy(R, 'records.csv')
shutil.copy(H, 'hierarchy.csv')
shutil.copy(D, 'definitions.yaml')
shutil.copy(T, 'targets.csv')
shutil.copy(HH, 'households.csv')
with open('schedule.csv', 'w') as f:  # cumulative shares, 100 in December
    f.write('month,share\n' + ''.join(f'{m},{[5, 10, 15, 20, 25, 30, 40, 50, 60, 75, 90, 100][m - 1]}\n'
                                      for m in range(1, 13)))
os.link('records.csv', 'records-hard.csv')
os.symlink('records.csv', 'records-link.csv')
rc, _, err = run(['snapshot', '-H', 'hierarchy.csv', '-d', 'definitions.yaml', '-r', 'records.csv',
                  '-o', 'records.snap'])
check(rc == 0, f'snapshot for the clash checks: exit {rc}: {err}')
INPUTS = ['records.csv', 'hierarchy.csv', 'definitions.yaml', 'targets.csv', 'households.csv',
          'schedule.csv', 'records.snap']
before = {p: digest(p) for p in INPUTS}
M2 = ['-H', 'hierarchy.csv', '-d', 'definitions.yaml']
clashes = [
    # (command line, the output's option and path, the input's option and path)
    (['rollup'] + M2 + ['-r', 'records.csv', '-o', 'records.csv'], '-o records.csv',
     '-r records.csv'),
    (['rollup'] + M2 + ['-r', 'records.csv', '-o', 'hierarchy.csv'], '-o hierarchy.csv',
     '-H hierarchy.csv'),
    (['rollup'] + M2 + ['-r', 'records.csv', '-o', 'definitions.yaml'], '-o definitions.yaml',
     '-d definitions.yaml'),
    (['rollup'] + M2 + ['-r', 'records.csv', '-o', 'records-hard.csv'], '-o records-hard.csv',
     '-r records.csv'),
    (['rollup'] + M2 + ['-r', 'records-link.csv', '-o', 'records.csv'], '-o records.csv',
     '-r records-link.csv'),
    (['rollup'] + M2 + ['-r', 'records.csv', '--on-error', 'collect', '--rejects',
                        'records.csv'], '--rejects records.csv', '-r records.csv'),
    (['snapshot'] + M2 + ['-r', 'records.snap', '-o', 'records.snap'], '-o records.snap',
     '-r records.snap'),
    (['snapshot'] + M2 + ['-r', 'records.csv', '-o', 'records.csv'], '-o records.csv',
     '-r records.csv'),
    (['progress'] + M2 + ['-r', 'records.csv', '-t', 'targets.csv', '--as-of', '2019-08',
                          '-o', 'targets.csv'], '-o targets.csv', '-t targets.csv'),
    (['progress'] + M2 + ['-r', 'records.csv', '-t', 'targets.csv', '--as-of', '2019-08',
                          '--schedule', 'schedule.csv', '--svg', 'schedule.csv'],
     '--svg schedule.csv', '--schedule schedule.csv'),
    (['poverty'] + M2 + ['--households', 'households.csv', '-o', 'households.csv'],
     '-o households.csv', '--households households.csv'),
    (['rollup'] + M2 + ['-r', 'records.csv', '-o', 'new.csv', '--on-error', 'collect',
                        '--rejects', 'new.csv'], '-o new.csv', '--rejects new.csv'),
]
for args, out, inp in clashes:
    rc, stdout, err = run(args)
    line = ' '.join(args)
    check(rc == 2, f'{line}: exit {rc}, expected 2')
    check(f'{out} and {inp} are the same file' in err, f'{line}: message {err!r}')
    check(stdout == b'', f'{line}: wrote to standard output')
for p in INPUTS:
    check(digest(p) == before[p], f'{p}: changed by a refused run')
check(not os.path.exists('new.csv'), 'new.csv: made by a refused run')

# ---- four concurrent writers of one path -------------------------------------

# Four records files, each the last (1000 x i) rows short: four outputs of
# about the same size (every period), each some megabytes, so that the
# writers overlap.
with open(R, 'rb') as f:
    lines = f.readlines()
alone = []
for i in range(4):
    with open(f'race-{i}.csv', 'wb') as f:
        f.writelines(lines[:len(lines) - 1000 * i])
    rc, _, err = run(['rollup'] + MODEL + ['-r', f'race-{i}.csv', '-o', f'alone-{i}.csv'])
    check(rc == 0, f'rollup -r race-{i}.csv: exit {rc}: {err}')
    alone.append(read(f'alone-{i}.csv'))
check(len(set(alone)) == 4, 'the four outputs are not all different')
os.mkdir('race')
for round_ in range(5):
    procs = [subprocess.Popen([TALLY, 'rollup'] + MODEL + ['-r', f'race-{i}.csv', '-o',
                                                           'race/same.csv'],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for i in range(4)]
    codes = [p.wait(300) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    check(codes == [0, 0, 0, 0], f'race round {round_}: exit statuses {codes}')
    got = read('race/same.csv')
    matches = [i for i, a in enumerate(alone) if a == got]
    check(len(matches) == 1, f'race round {round_}: the file ({len(got)} bytes) equals '
          f'{len(matches)} of the four outputs, expected exactly one')
    check(os.listdir('race') == ['same.csv'], f'race round {round_}: left {os.listdir("race")}')

shutil.rmtree(work)
print(f'{checked} checks, {len(failures)} failed')
sys.exit(1 if failures else 0)
