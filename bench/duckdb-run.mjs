// The benchmark job in DuckDB: read the records CSV with explicit types and
// sum every indicator at every level by code prefix (GROUPING SETS over
// substr of the 12-digit code), plus the ratio share = v02 / v01 * 100 of
// the sums over the regions that filed both (tally's rule for a formula:
// docs/definitions.md), written as CSV: level_digits,prefix,indicator,
// period,value.
//
// Usage: node duckdb-run.mjs RECORDS.csv OUT.csv [village]
// With `village`, the 12-digit codes are a grouping set too (every level
// written, villages included).
// Prints the phase times as JSON on standard output.
import { DuckDBInstance } from '@duckdb/node-api';

const [records, out, every] = process.argv.slice(2);
const village = every === 'village';
const q = (s) => "'" + s.replaceAll("'", "''") + "'";
const t0 = performance.now();
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
await con.run(`CREATE TABLE r AS SELECT * FROM read_csv(${q(records)}, header = true,
  columns = {'region_code': 'VARCHAR', 'indicator': 'VARCHAR', 'period': 'VARCHAR',
             'value': 'DECIMAL(18,2)'})`);
const t1 = performance.now();
await con.run(`CREATE TABLE s AS
  SELECT CASE ${village ? 'WHEN GROUPING(p12) = 0 THEN 12' : ''}
              WHEN GROUPING(p9) = 0 THEN 9 WHEN GROUPING(p6) = 0 THEN 6
              WHEN GROUPING(p4) = 0 THEN 4 ELSE 2 END AS digits,
         COALESCE(${village ? 'p12, ' : ''}p9, p6, p4, p2) AS prefix, indicator, period,
         SUM(value) AS value
  FROM (SELECT substr(region_code, 1, 2) AS p2, substr(region_code, 1, 4) AS p4,
               substr(region_code, 1, 6) AS p6, substr(region_code, 1, 9) AS p9,
               region_code AS p12, indicator, period, value FROM r)
  GROUP BY GROUPING SETS ((p2, indicator, period), (p4, indicator, period),
                          (p6, indicator, period), (p9, indicator, period)
                          ${village ? ', (p12, indicator, period)' : ''})`);
const t2 = performance.now();
const prefixes = `substr(region_code, 1, 2) AS p2, substr(region_code, 1, 4) AS p4,
               substr(region_code, 1, 6) AS p6, substr(region_code, 1, 9) AS p9,
               region_code AS p12`;
const sets = `GROUPING SETS ((p2, period), (p4, period), (p6, period), (p9, period)
                              ${village ? ', (p12, period)' : ''})`;
const digits = `CASE ${village ? 'WHEN GROUPING(p12) = 0 THEN 12' : ''}
              WHEN GROUPING(p9) = 0 THEN 9 WHEN GROUPING(p6) = 0 THEN 6
              WHEN GROUPING(p4) = 0 THEN 4 ELSE 2 END`;
await con.run(`COPY (
  SELECT digits, prefix, indicator, period, value FROM s
  UNION ALL
  SELECT ${digits} AS digits, COALESCE(${village ? 'p12, ' : ''}p9, p6, p4, p2) AS prefix,
         'share', period,
         ROUND(CAST(SUM(b) AS DOUBLE) / NULLIF(CAST(SUM(a) AS DOUBLE), 0) * 100, 2)
  FROM (SELECT ${prefixes}, period, a, b
        FROM (SELECT region_code, period,
                     SUM(value) FILTER (WHERE indicator = 'v01') AS a,
                     SUM(value) FILTER (WHERE indicator = 'v02') AS b
              FROM r WHERE indicator IN ('v01', 'v02') AND value IS NOT NULL
              GROUP BY region_code, period)
        WHERE a IS NOT NULL AND b IS NOT NULL)
  GROUP BY ${sets}
) TO ${q(out)} (HEADER, DELIMITER ',')`);
const t3 = performance.now();
console.log(JSON.stringify({ parse: (t1 - t0) / 1000, rollup: (t2 - t1) / 1000,
                             write: (t3 - t2) / 1000 }));
