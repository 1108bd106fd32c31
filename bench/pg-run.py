#!/usr/bin/env python3
"""The benchmark job in PostgreSQL 15: COPY the records into an unlogged
table, sum every indicator at every level by code prefix (GROUP BY
GROUPING SETS over substr of the 12-digit code), the ratio share = v02 / v01
* 100 of the sums over the regions that filed both, \\copy out as CSV: level_digits,prefix,indicator,period,value.

  pg-run.py start WORKDIR       initdb (as user postgres) and start a server on
                                127.0.0.1 at a free port; prints the port
  pg-run.py job PORT RECORDS OUT  one run; prints phase times and the server
                                backend's peak RSS (kB) as JSON
  pg-run.py stop WORKDIR        stop the server and remove its data directory
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys

BIN = "/usr/lib/postgresql/15/bin"


def as_postgres(args, **kw):
    return subprocess.run(["runuser", "-u", "postgres", "--"] + args, check=True, **kw)


def start(work):
    data = os.path.join(work, "pgdata")
    os.makedirs(work, exist_ok=True)
    shutil.chown(work, "postgres", "postgres")
    as_postgres([f"{BIN}/initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8",
                 "--no-sync"], stdout=subprocess.DEVNULL)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    opts = (f"-p {port} -c listen_addresses=127.0.0.1 -k {work} -c shared_buffers=2GB "
            "-c work_mem=2GB -c maintenance_work_mem=1GB -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c wal_level=minimal "
            "-c max_wal_senders=0 -c max_parallel_workers_per_gather=2 -c jit=off")
    as_postgres([f"{BIN}/pg_ctl", "-D", data, "-l", os.path.join(work, "log"), "-w", "-o", opts,
                 "start"], stdout=subprocess.DEVNULL)
    print(port)


def stop(work):
    data = os.path.join(work, "pgdata")
    if os.path.isdir(data):
        as_postgres([f"{BIN}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"],
                    stdout=subprocess.DEVNULL)
    shutil.rmtree(work, ignore_errors=True)


SQL = r"""
\set ON_ERROR_STOP on
DROP TABLE IF EXISTS r, s, pr;
SELECT pg_backend_pid() AS pid \gset
\timing on
CREATE UNLOGGED TABLE r (region_code text, indicator text, period text, value numeric(18,2));
\copy r FROM '{records}' WITH (FORMAT csv, HEADER true)
CREATE UNLOGGED TABLE s AS
  SELECT CASE WHEN GROUPING(p9) = 0 THEN 9 WHEN GROUPING(p6) = 0 THEN 6
              WHEN GROUPING(p4) = 0 THEN 4 ELSE 2 END AS digits,
         COALESCE(p9, p6, p4, p2) AS prefix, indicator, period, SUM(value) AS value
  FROM (SELECT substr(region_code, 1, 2) AS p2, substr(region_code, 1, 4) AS p4,
               substr(region_code, 1, 6) AS p6, substr(region_code, 1, 9) AS p9,
               indicator, period, value FROM r) x
  GROUP BY GROUPING SETS ((p2, indicator, period), (p4, indicator, period),
                          (p6, indicator, period), (p9, indicator, period));
CREATE UNLOGGED TABLE pr AS
  SELECT region_code, period, SUM(value) FILTER (WHERE indicator = 'v01') AS a,
         SUM(value) FILTER (WHERE indicator = 'v02') AS b
  FROM r WHERE indicator IN ('v01', 'v02') AND value IS NOT NULL GROUP BY region_code, period;
\copy (SELECT digits, prefix, indicator, period, value FROM s UNION ALL SELECT CASE WHEN GROUPING(p9) = 0 THEN 9 WHEN GROUPING(p6) = 0 THEN 6 WHEN GROUPING(p4) = 0 THEN 4 ELSE 2 END, COALESCE(p9, p6, p4, p2), 'share', period, ROUND(SUM(b) / NULLIF(SUM(a), 0) * 100, 2) FROM (SELECT substr(region_code, 1, 2) AS p2, substr(region_code, 1, 4) AS p4, substr(region_code, 1, 6) AS p6, substr(region_code, 1, 9) AS p9, period, a, b FROM pr WHERE a IS NOT NULL AND b IS NOT NULL) y GROUP BY GROUPING SETS ((p2, period), (p4, period), (p6, period), (p9, period))) TO '{out}' WITH (FORMAT csv, HEADER true)
\timing off
\setenv TALLY_BENCH_PID :pid
\! grep VmHWM /proc/$TALLY_BENCH_PID/status
DROP TABLE r, s, pr;
"""


def job(port, records, out):
    sql = SQL.format(records=os.path.abspath(records), out=os.path.abspath(out))
    p = subprocess.run(["psql", "-X", "-q", "-h", "127.0.0.1", "-p", port, "-U", "postgres",
                        "-d", "postgres"], input=sql, capture_output=True, text=True)
    if p.returncode:
        sys.stderr.write(p.stdout + p.stderr)
        sys.exit(1)
    times = [float(t) / 1000 for t in re.findall(r"Time: ([0-9.]+) ms", p.stdout)]
    hwm = re.search(r"VmHWM:\s+(\d+) kB", p.stdout)
    # Statements timed: CREATE r, COPY, CREATE s, \copy out.
    print(json.dumps({"parse": times[0] + times[1], "rollup": times[2], "write": times[3],
                      "server_peak_kb": int(hwm.group(1)) if hwm else None}))


def main(argv):
    if len(argv) == 3 and argv[1] == "start":
        start(argv[2])
    elif len(argv) == 3 and argv[1] == "stop":
        stop(argv[2])
    elif len(argv) == 5 and argv[1] == "job":
        job(argv[2], argv[3], argv[4])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
