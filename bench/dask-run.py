#!/usr/bin/env python3
"""The national rollup through tally.dask on a LocalCluster against one
process, on this machine.

  TALLY_LIBRARY=build/lib/libtally.so PYTHONPATH=bindings/python \\
      /usr/bin/python3 bench/dask-run.py --scale 2000000 [--parts 4] [--workers 2]

Writes the national hierarchy, the benchmark definitions and --scale
records (bench/gen.py: every village files 16 indicators a month) into
--dir, the records also cut into --parts files of consecutive rows; then
times
  - one process: `tally rollup` on the whole file (the program, -o FILE);
  - tally.dask.rollup on a LocalCluster of --workers processes (one thread
    each) over the parts: the cluster's start, the partials made and merged
    on the workers, the finish on the client, the write;
and checks that both outputs are the same bytes. It also prints the size of
one part's partial (bytes per reported cell) and of the merged one.
"""
import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run(*args):
    subprocess.run(args, check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=int, default=2_000_000, help="records (default 2000000)")
    ap.add_argument("--parts", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--dir", default="/tmp/tally-dask-bench")
    ap.add_argument("--exe", default=os.path.join(ROOT, "build", "examples", "tally"))
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    gen = [sys.executable, os.path.join(HERE, "gen.py")]
    hier, defs = os.path.join(a.dir, "national.csv"), os.path.join(a.dir, "bench.yaml")
    recs = os.path.join(a.dir, f"records-{a.scale}.csv")
    if not os.path.exists(hier):
        run(*gen, "hierarchy", "national",
            os.path.join(ROOT, "data", "china-divisions", "divisions-2023.csv.gz"), hier)
    if not os.path.exists(defs):
        run(*gen, "definitions", defs)
    if not os.path.exists(recs):
        run(*gen, "records", hier, str(a.scale), recs)
    with open(recs, "rb") as f:
        header, *rows = f.readlines()
    parts = []
    per = (len(rows) + a.parts - 1) // a.parts
    for i in range(a.parts):
        p = os.path.join(a.dir, f"part{i}-{a.scale}.csv")
        with open(p, "wb") as f:
            f.write(header)
            f.writelines(rows[i * per:(i + 1) * per])
        parts.append(p)
    del rows

    one = os.path.join(a.dir, "one.csv")
    t = time.perf_counter()
    run(a.exe, "rollup", "-H", hier, "-d", defs, "-r", recs, "-o", one)
    t_one = time.perf_counter() - t

    import tally
    import tally.dask
    from distributed import Client, LocalCluster

    d = tally.Definitions.from_yaml(defs)
    h = tally.Hierarchy.from_csv(hier, definitions=d)
    size0 = len(tally.dask.partial_bytes(1, parts[0], 0, h, d))
    with open(parts[0], "rb") as f:
        cells0 = sum(1 for _ in f) - 1
    env = {k: os.environ[k] for k in ("TALLY_LIBRARY", "PYTHONPATH") if os.environ.get(k)}
    t = time.perf_counter()
    with LocalCluster(n_workers=a.workers, processes=True, threads_per_worker=1,
                      dashboard_address=None, env=env) as cluster, Client(cluster) as client:
        t_start = time.perf_counter() - t
        # Cold: the workers read the hierarchy and definitions in this call.
        t = time.perf_counter()
        r = tally.dask.rollup(client, hier, defs, parts)
        t_total = time.perf_counter() - t
        t = time.perf_counter()
        out = os.path.join(a.dir, "dask.csv")
        r.write(out)
        t_write = time.perf_counter() - t
        # Warm: the workers have them; only the partials, merges and finish.
        t = time.perf_counter()
        tally.dask.rollup(client, hier, defs, parts).close()
        t_warm = time.perf_counter() - t
        t = time.perf_counter()
        data = tally.dask._reduce(client, 1, parts, ("files", hier, defs), "stop", 8)
        t_reduce = time.perf_counter() - t
    with open(one, "rb") as f1, open(out, "rb") as f2:
        same = f1.read() == f2.read()
    print(f"records {a.scale}, {a.parts} parts, LocalCluster of {a.workers} worker processes")
    print(f"one process, tally rollup -o (model, read, rollup, write): {t_one:6.2f} s")
    print(f"cluster start:                                             {t_start:6.2f} s")
    print(f"tally.dask.rollup, first call (workers read the model):    {t_total:6.2f} s")
    print(f"  + Result.write on the client:                            {t_write:6.2f} s")
    print(f"tally.dask.rollup again (model already on the workers):    {t_warm:6.2f} s")
    print(f"  of which partials made and merged on the workers:        {t_reduce:6.2f} s")
    print(f"partial of one part: {size0} bytes for {cells0} cells "
          f"({size0 / max(cells0, 1):.1f} bytes a cell); merged: {len(data)} bytes")
    print("outputs identical:", same)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
