"""tally.dask on a LocalCluster of two worker processes: the 岳阳 records
dealt at random into 4 files (a region's months, and a ratio's numerator
and denominator, in different files), rolled up by tally.dask.rollup, must
print exactly what `tally rollup` prints on the same 4 files; the same
records as a dask.dataframe of 4 shuffled partitions against `tally rollup`
on the original file; the households dealt into 4 files, measured by
tally.dask.poverty, against `tally poverty --households` on those files;
tally.dask.check on the 4 files and on the dataframe against `tally check`;
a cell given in two parts raises the duplicate one process reports.

Run by meson (test 'dask') with this build's library in TALLY_LIBRARY and
the tally program in TALLY_EXE. Exits 77 (skipped) only when dask or
distributed is not importable."""

import os
import random
import subprocess
import sys
import tempfile

try:
    import dask.dataframe as dd
    import pandas as pd
    from distributed import Client, LocalCluster
except ImportError as e:
    print(f"SKIP: dask or distributed not importable ({e}); install python3-dask "
          "python3-distributed", file=sys.stderr)
    sys.exit(77)

import tally
import tally.dask

ROOT = os.environ["TALLY_SOURCE_ROOT"]
EXE = os.environ["TALLY_EXE"]
DATA = os.path.join(ROOT, "examples", "data")
H = os.path.join(DATA, "yueyang-hierarchy.csv")
D = os.path.join(DATA, "yueyang.yaml")
failures = []


def deal(path, k, out_dir, stem, rng, extra=None):
    with open(path, encoding="utf-8") as f:
        header, *rows = f.readlines()
    parts = [[] for _ in range(k)]
    for row in rows:
        parts[rng.randrange(k)].append(row)
    if extra is not None:
        parts[-1].append(extra(parts[0][0]))
    paths = []
    for i, part in enumerate(parts):
        p = os.path.join(out_dir, f"{stem}{i}.csv")
        with open(p, "w", encoding="utf-8") as f:
            f.write(header)
            f.writelines(part)
        paths.append(p)
    return paths


def cli(*args):
    out = subprocess.run([EXE, *args, "-H", H, "-d", D], capture_output=True, check=True)
    return out.stdout


def same(what, expected, path):
    with open(path, "rb") as f:
        got = f.read()
    if got != expected:
        at = next((i for i, (a, b) in enumerate(zip(got, expected)) if a != b),
                  min(len(got), len(expected)))
        failures.append(f"{what}: differs from the command line at byte {at}: "
                        f"{got[max(0, at - 60):at + 60]!r} vs {expected[max(0, at - 60):at + 60]!r}")
    else:
        print(f"ok: {what} ({len(got)} bytes, same as the command line)")


def main():
    rng = random.Random(22)
    d = tally.Definitions.from_yaml(D)
    h = tally.Hierarchy.from_csv(H, definitions=d)
    env = {k: os.environ[k] for k in ("TALLY_LIBRARY", "PYTHONPATH", "LD_PRELOAD",
                                       "ASAN_OPTIONS") if os.environ.get(k)}
    with tempfile.TemporaryDirectory() as tmp, \
            LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                         dashboard_address=None, env=env) as cluster, \
            Client(cluster) as client:
        # Records in 4 files, rows dealt at random.
        records = deal(os.path.join(DATA, "yueyang-2019.csv"), 4, tmp, "records", rng)
        out = os.path.join(tmp, "out.csv")
        r = tally.dask.rollup(client, h, d, records)
        r.write(out)
        same("rollup of 4 files", cli("rollup", *sum((["-r", p] for p in records), [])), out)
        # The model given as paths: each worker reads the files itself.
        r = tally.dask.rollup(client, H, D, records, coverage=True,
                              periods=["2019", "2019-Q3", "2019-07"])
        r.write(out)
        same("rollup --coverage --period 2019,2019-Q3,2019-07",
             cli("rollup", "--coverage", "--period", "2019,2019-Q3,2019-07",
                 *sum((["-r", p] for p in records), [])), out)
        # A dask.dataframe of 4 partitions of shuffled rows.
        frame = pd.read_csv(os.path.join(DATA, "yueyang-2019.csv"), dtype={"region_code": str})
        frame = frame.sample(frac=1.0, random_state=7).reset_index(drop=True)
        r = tally.dask.rollup(client, h, d, dd.from_pandas(frame, npartitions=4))
        r.write(out)
        same("rollup of a dask.dataframe of 4 partitions",
             cli("rollup", "-r", os.path.join(DATA, "yueyang-2019.csv")), out)
        # The checks of the 4 files, and of the dataframe: every finding
        # `tally check` prints, in its order, to the byte.
        f = tally.dask.check(client, h, d, records)
        f.to_csv(out)
        expected = cli("check", *sum((["-r", p] for p in records), []))
        if expected.count(b"\n") < 10:
            failures.append(f"tally check found too little to compare: {expected!r}")
        same("check of 4 files", expected, out)
        f = tally.dask.check(client, H, D, dd.from_pandas(frame, npartitions=4),
                             periods=["2019-06", "2019-Q3"])
        f.to_csv(out)
        same("check --period 2019-06,2019-Q3 of a dask.dataframe of 4 partitions",
             cli("check", "--period", "2019-06,2019-Q3", "-r",
                 os.path.join(DATA, "yueyang-2019.csv")), out)
        # Records by cause (categories), a town's total at odds with its
        # options: the error finding and the coverage warnings.
        cats = os.path.join(ROOT, "tests", "data", "categories")
        ch, cd = (os.path.join(cats, "yunxi-hierarchy.csv"), os.path.join(cats, "yunxi.yaml"))
        parts = deal(os.path.join(cats, "yunxi-records.csv"), 4, tmp, "cause", rng)
        f = tally.dask.check(client, ch, cd, parts)
        f.to_csv(out)
        expected = subprocess.run([EXE, "check", "-H", ch, "-d", cd,
                                   *sum((["-r", p] for p in parts), [])],
                                  capture_output=True).stdout
        if b",error," not in expected:
            failures.append(f"tally check found no error to compare: {expected!r}")
        same("check of records by cause in 4 files", expected, out)
        # Households in 4 files.
        households = deal(os.path.join(DATA, "yueyang-households-2019.csv"), 4, tmp, "hh", rng)
        p = tally.dask.poverty(client, H, D, households)
        p.write(out)
        same("poverty of 4 households files",
             cli("poverty", *sum((["--households", f] for f in households), [])), out)
        # A cell given in part 0 and again in part 3: the duplicate one
        # process reports, the earlier value kept.
        dup = deal(os.path.join(DATA, "yueyang-2019.csv"), 4, tmp, "dup", rng,
                   extra=lambda row: ",".join(row.split(",")[:3]) + ",777\n")
        try:
            tally.dask.rollup(client, h, d, dup)
            failures.append("a cell in two parts did not raise")
        except tally.DuplicateError as e:
            print(f"ok: duplicate raised: {e}")
        r = tally.dask.rollup(client, h, d, dup, on_error="collect")
        r.write(out)
        one = subprocess.run([EXE, "rollup", "--on-error", "collect", "-H", H, "-d", D,
                              *sum((["-r", p] for p in dup), [])], capture_output=True)
        same("rollup with a duplicate, collected", one.stdout, out)
        if len(r.duplicates) != 1 or one.stderr.count(b"duplicate record") != 1:
            failures.append(f"duplicates: {list(r.duplicates)} vs {one.stderr!r}")
    if failures:
        print("\n".join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
