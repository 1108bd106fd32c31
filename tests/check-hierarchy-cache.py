#!/usr/bin/env python3
"""The tally CLI gives the same bytes with and without the hierarchy cache
(docs/hierarchy-cache.md), on the national division table.

Runs `tally rollup` (at every level) and `tally check` over the NBS 2023
table and village records of one county, three ways: the CSV alone (no
cache made), with --hierarchy-cache (reads the CSV, writes FILE.csv.tallyh),
and with the cache there (loaded in place of the CSV). Standard output,
standard error and the exit status must be the same each time. Then: a
CSV changed after the cache was made gives the new hierarchy's result (the
cache is made again); a damaged cache is refused with exit status 2 and a
message naming it; a file of someone else's at the cache's name is never
replaced.

Usage: check-hierarchy-cache.py TALLY_EXE DIVISIONS_CSV_GZ
"""
import gzip
import os
import shutil
import subprocess
import sys
import tempfile


def run(tally, args):
    p = subprocess.run([tally] + args, capture_output=True)
    return p.returncode, p.stdout, p.stderr


def main():
    tally, table = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="tally-hcache-")
    try:
        hier = os.path.join(tmp, "divisions.csv")
        cache = hier + ".tallyh"
        with gzip.open(table, "rb") as f, open(hier, "wb") as g:
            shutil.copyfileobj(f, g)
        defs = os.path.join(tmp, "defs.yaml")
        with open(defs, "w", encoding="utf-8") as f:
            f.write("indicators:\n  - id: people\n    over_time: stock\n"
                    "checks:\n  - id: adds_up\n    hierarchy: [people]\n"
                    "  - id: spikes\n    outliers: [people]\n")
        villages = []
        with open(hier, encoding="utf-8") as f:
            for line in f:
                if line.startswith("430626") and ",village" in line:
                    villages.append(line.split(",")[0])
        if len(villages) < 500:
            raise SystemExit(f"expected the villages of 平江县 (430626), found {len(villages)}")
        recs = os.path.join(tmp, "records.csv")
        with open(recs, "w", encoding="utf-8") as f:
            f.write("region_code,indicator,period,value\n")
            for i, v in enumerate(villages):
                f.write(f"{v},people,2023-01,{(i * 37) % 1000 + (5000 if i == 7 else 0)}\n")
        jobs = [["rollup", "-H", hier, "-d", defs, "-r", recs],
                ["check", "-H", hier, "-d", defs, "-r", recs]]
        failures = []
        for job in jobs:
            plain = run(tally, job)
            if plain[0] not in (0, 1) or not plain[1]:
                raise SystemExit(f"{job[0]} failed: {plain[2].decode()}")
            if os.path.exists(cache):
                failures.append("a cache was written without --hierarchy-cache")
            made = run(tally, job + ["--hierarchy-cache"])
            if not os.path.exists(cache):
                failures.append("--hierarchy-cache wrote no cache")
            stamp = os.stat(cache).st_mtime_ns
            used = run(tally, job)
            if os.stat(cache).st_mtime_ns != stamp:
                failures.append("a fresh cache was written again")
            for name, got in (("--hierarchy-cache", made), ("with the cache", used)):
                if got != plain:
                    failures.append(f"{job[0]} {name}: output differs from the CSV's")
            os.unlink(cache)

        # A changed CSV: a county renamed (same size: 平江县 -> 平江乡) after
        # the cache was made; the result has the new name.
        run(tally, jobs[0] + ["--hierarchy-cache"])
        text = open(hier, encoding="utf-8").read()
        st = os.stat(hier)
        open(hier, "w", encoding="utf-8").write(text.replace(",平江县,", ",平江乡,"))
        os.utime(hier, ns=(st.st_atime_ns, st.st_mtime_ns))  # the same time, too
        rc, out, err = run(tally, jobs[0])
        if "平江乡".encode() not in out or "平江县".encode() in out:
            failures.append("a stale cache was used after the CSV changed")
        fresh = run(tally, jobs[0])
        if fresh != (rc, out, err):
            failures.append("the cache made again gives another result")

        # A damaged cache: refused, named, exit status 2.
        b = bytearray(open(cache, "rb").read())
        b[len(b) // 2] ^= 0x10
        open(cache, "wb").write(b)
        rc, out, err = run(tally, jobs[0])
        if rc != 2 or f"{cache}: damaged hierarchy cache: checksum mismatch".encode() not in err:
            failures.append(f"damaged cache: exit {rc}, {err.decode()!r}")
        # ... and made again when asked.
        rc2, out2, _ = run(tally, jobs[0] + ["--hierarchy-cache"])
        if rc2 != 0 or out2 != run(tally, jobs[0])[1]:
            failures.append("a damaged cache was not made again with --hierarchy-cache")

        # Someone else's file at the cache's name: left alone.
        open(cache, "wb").write(b"notes\n")
        rc, out, err = run(tally, jobs[0])
        if rc != 0 or open(cache, "rb").read() != b"notes\n":
            failures.append("another file at the cache's name was touched or refused")
        rc, out, err = run(tally, jobs[0] + ["--hierarchy-cache"])
        if rc != 2 or b"is not a hierarchy cache; not replaced" not in err \
                or open(cache, "rb").read() != b"notes\n":
            failures.append(f"--hierarchy-cache over another file: exit {rc}, {err.decode()!r}")
        for f in failures:
            print("FAIL:", f)
        if failures:
            return 1
        print("the CLI gives the same bytes with and without the hierarchy cache")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
