#!/usr/bin/env python3
"""Hostile sizes end in a limit, not in exhausted memory (issue 23).

1. A character device that never ends (/dev/zero) given as -r, under a
   2 GB address-space limit: exit 2 and a message naming the file and the
   1 GiB limit for streams; --max-input-bytes changes that limit.
2. A 2 GiB sparse records file (a header, then zeros: one row of 2 GiB with
   no line break) read with --on-error collect: exit 0, one rejected row,
   peak resident memory under 300 MB (ru_maxrss of the child), and a
   rejects file under 10 MB whose row is cut and says how long it was.
3. 9,000 yearly periods for one village over the national table: exit 2
   with a limit message naming the columns, the regions and the bytes,
   under a 4 GB address-space limit (the default budget is then half of it,
   so the test stays light; the message is the same with any budget).

Usage: check-limits.py TALLY_EXE SOURCE_ROOT
"""
import gzip
import os
import resource
import shutil
import subprocess
import sys
import tempfile

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)
    else:
        print("ok:", what)


def run(argv, vmem=None):
    def limit():
        if vmem:
            resource.setrlimit(resource.RLIMIT_AS, (vmem, vmem))
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         preexec_fn=limit)
    out, err = p.communicate(timeout=120)
    return p.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def peak_rss_kb(argv):
    """Exit status, stderr and the child's peak resident set (KiB)."""
    with tempfile.TemporaryFile() as e:
        pid = os.fork()
        if pid == 0:
            os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
            os.dup2(e.fileno(), 2)
            os.execv(argv[0], argv)
        _, status, usage = os.wait4(pid, 0)
        e.seek(0)
        return os.waitstatus_to_exitcode(status), e.read().decode("utf-8", "replace"), \
            usage.ru_maxrss


def main():
    tmp = tempfile.mkdtemp(prefix="tally-limits-")
    try:
        return checks(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def checks(tmp):
    tally, root = sys.argv[1], sys.argv[2]
    # Under AddressSanitizer an address-space limit (ulimit -v) cannot be
    # set: its shadow memory alone is terabytes of address space.
    sanitized = len(sys.argv) > 3 and sys.argv[3] not in ("", "none")
    ex = os.path.join(root, "examples", "data")
    H, D = os.path.join(ex, "yueyang-hierarchy.csv"), os.path.join(ex, "yueyang.yaml")

    # 1. /dev/zero under ulimit -v 2000000 (KiB).
    rc, _, err = run([tally, "rollup", "-H", H, "-d", D, "-r", "/dev/zero"],
                     vmem=None if sanitized else 2000000 * 1024)
    check(rc == 2, f"/dev/zero: exit 2 (got {rc})")
    check("/dev/zero: more than 1 GiB read from a stream" in err and "--max-input-bytes" in err,
          f"/dev/zero: the message names the file and the limit: {err.strip()[:300]}")
    rc, _, err = run([tally, "rollup", "-H", H, "-d", D, "-r", "/dev/zero",
                      "--max-input-bytes", "64K"])
    check(rc == 2 and "more than 64 KiB read from a stream" in err,
          f"--max-input-bytes 64K: the limit named: {err.strip()[:300]}")
    rc, _, err = run([tally, "rollup", "-H", "/dev/zero", "-d", D, "-r", "/dev/null",
                      "--max-input-bytes", "1M"])
    check(rc == 2 and "/dev/zero: more than 1 MiB read from a stream" in err,
          f"-H /dev/zero: the hierarchy reader has the limit too: {err.strip()[:300]}")

    # The note on a stopped read is said in stop mode only.
    bad = os.path.join(ex, "bad-records.csv")
    _, _, err = run([tally, "rollup", "-H", H, "-d", D, "-r", bad, "--on-error", "collect"])
    check("stopped at the first bad row" not in err, "collect mode: no 'stopped' note")
    _, _, err = run([tally, "rollup", "-H", H, "-d", D, "-r", bad])
    check("stopped at the first bad row" in err, "stop mode: the 'stopped' note")

    # A UTF-32 file is named UTF-32 (its BOM starts like UTF-16's).
    u32 = os.path.join(tmp, "u32.csv")
    with open(u32, "wb") as f:
        f.write("region_code,indicator,period,value\n".encode("utf-32"))
    _, _, err = run([tally, "rollup", "-H", H, "-d", D, "-r", u32])
    check("the file is UTF-32" in err and "UTF-16" not in err, f"UTF-32 named: {err[:200]}")
    # A snapshot through a pipe is said to be one, not parsed as CSV.
    snap = os.path.join(tmp, "s.tsnp")
    run([tally, "snapshot", "-H", H, "-d", D, "-r", os.path.join(ex, "yueyang-2019.csv"),
         "-o", snap])
    with open(snap, "rb") as f:
        p = subprocess.run([tally, "rollup", "-H", H, "-d", D, "-r", "/dev/stdin"],
                           input=f.read(), capture_output=True)
    err = p.stderr.decode()
    check(p.returncode == 2 and "a tally snapshot, not a records CSV" in err,
          f"snapshot through a pipe: recognised: {err[:200]}")

    # 2. A 2 GiB sparse file in collect mode.
    big = os.path.join(tmp, "big.csv")
    header = b"region_code,indicator,period,value\n"
    with open(big, "wb") as f:
        f.write(header)
        f.truncate(2 << 30)
    rej = os.path.join(tmp, "rejects.csv")
    rc, err, rss = peak_rss_kb([tally, "rollup", "-H", H, "-d", D, "-r", big,
                                "--on-error", "collect", "--rejects", rej])
    os.unlink(big)
    check(rc == 0, f"2 GiB of zeros, collect: exit 0 (got {rc}: {err.strip()[:300]})")
    check("1 rows read = 0 accepted + 1 rejected" in err, "2 GiB of zeros: one rejected row")
    check(rss < 300 * 1024, f"2 GiB of zeros: peak memory {rss // 1024} MB < 300 MB")
    size = os.path.getsize(rej)
    check(size < 10 << 20, f"2 GiB of zeros: rejects file {size} bytes < 10 MB")
    with open(rej, "rb") as f:
        text = f.read()
    row_bytes = (2 << 30) - len(header)
    check(f"\u2026[cut: {row_bytes} bytes]".encode() in text,
          f"2 GiB of zeros: the kept row says it was cut from {row_bytes} bytes")
    # 4096 bytes kept, each NUL shown as U+FFFD (3 bytes).
    check(text.count("\ufffd".encode()) == 4096, "2 GiB of zeros: the first 4096 bytes kept")

    # 3. 9,000 periods for one village over the national table.
    table = os.path.join(root, "data", "china-divisions", "divisions-2023.csv.gz")
    hier = os.path.join(tmp, "national.csv")
    with gzip.open(table, "rb") as f, open(hier, "wb") as out:
        data = f.read()
        out.write(data)
    nodes = data.count(b"\n") - 1
    village = next(line.split(b",")[0] for line in data.split(b"\n")[1:]
                   if line.split(b",")[2:3] == [b"village"]).decode()
    defs = os.path.join(tmp, "defs.yaml")
    with open(defs, "w") as f:
        f.write("indicators:\n  - { id: people, over_time: stock }\n")
    recs = os.path.join(tmp, "records.csv")
    with open(recs, "w") as f:
        f.write("region_code,indicator,period,value\n")
        for year in range(1000, 10000):
            f.write(f"{village},people,{year},1\n")
    # The columns hold the regions filed (here one village, 64 regions
    # a column), and the result the village and its ancestors: a run in
    # well under 1 GB. Columns over all 665,271 regions would take 9,000 x
    # 5.3 MB = 48 GB.
    if sanitized:
        print("note: 9,000 periods under ulimit -v 1 GiB not run in a sanitizer build "
              "(no ulimit -v there)")
    else:
        rc, out, err = run([tally, "rollup", "-H", hier, "-d", defs, "-r", recs,
                            "--under", village], vmem=1 << 30)
        rows = out.splitlines()
        check(rc == 0, f"9,000 periods under ulimit -v 1 GiB: exit 0 (got {rc}): "
                       f"{err.strip()[:400]}")
        # Each year the village filed 1 (a stock): one row a year, value 1.
        name = next(line.split(b",")[1] for line in data.split(b"\n")[1:]
                    if line.split(b",")[0] == village.encode()).decode()
        want = [f"{village},{name},village,people,{year},1" for year in range(1000, 10000)]
        check(rows[1:] == want, f"9,000 periods: a row a year with the value 1 "
                                f"({len(rows) - 1} rows; first {rows[1:3]})")
    # The budget bounds what the columns hold: a column of the village holds
    # its 64 regions' values (8 bytes each) and two words of bits.
    col = 64 * 8 + 2 * 8
    fits = (1 << 20) // col
    rc, _, err = run([tally, "rollup", "-H", hier, "-d", defs, "-r", recs,
                      "--max-memory", "1M"])
    check(rc == 2 and "too much memory" in err and f"records.csv:{fits + 2}:" in err and
          f"{fits} columns" in err and "--max-memory" in err,
          f"--max-memory 1M: stops at column {fits + 1}: {err.strip()[:400]}")

    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
