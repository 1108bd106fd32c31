// The check job in DuckDB: the equivalent of tally check's hierarchy and
// outlier checks over village records and the towns' own reports.
// - adds_up: every town's reported value against the sum of its villages'
//   (codes whose 9 leading digits are the town's); a finding where they
//   differ.
// - spikes: among siblings (villages of a town, by the 9 leading digits;
//   towns of a county, by 6, with the towns' reported values; counties of
//   a city, by 4, and cities of a province, by 2, with the sums of their
//   villages), the modified z-score M = 0.6745 (x - median) / MAD, MAD the
//   median of |x - median|; |M| > 3.5 is a finding; groups of fewer than 3
//   or with MAD 0 are not judged.
// Written as CSV: check,region_code,indicator,period,expected,actual.
//
// Usage: node duckdb-check.mjs RECORDS.csv OUT.csv
// Prints the phase times and the count of findings per check as JSON.
import { DuckDBInstance } from '@duckdb/node-api';

const [records, out] = process.argv.slice(2);
const q = (s) => "'" + s.replaceAll("'", "''") + "'";
const t0 = performance.now();
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
await con.run(`CREATE TABLE r AS SELECT * FROM read_csv(${q(records)}, header = true,
  columns = {'region_code': 'VARCHAR', 'indicator': 'VARCHAR', 'period': 'VARCHAR',
             'value': 'DOUBLE'})`);
const t1 = performance.now();
await con.run(`CREATE TABLE v AS SELECT * FROM r
  WHERE value IS NOT NULL AND substr(region_code, 10, 3) <> '000'`);
await con.run(`CREATE TABLE t AS SELECT * FROM r
  WHERE value IS NOT NULL AND substr(region_code, 10, 3) = '000'`);
await con.run(`CREATE TABLE findings AS
  SELECT 'adds_up' AS "check", t.region_code, t.indicator, t.period,
         s.total AS expected, t.value AS actual
  FROM t JOIN (SELECT substr(region_code, 1, 9) AS p9, indicator, period, SUM(value) AS total
               FROM v GROUP BY ALL) s
    ON substr(t.region_code, 1, 9) = s.p9 AND t.indicator = s.indicator AND t.period = s.period
  WHERE t.value <> s.total`);
await con.run(`INSERT INTO findings
  WITH fig AS (
    SELECT region_code AS code, substr(region_code, 1, 9) AS parent, indicator, period, value FROM v
    UNION ALL SELECT region_code, substr(region_code, 1, 6), indicator, period, value FROM t
    UNION ALL SELECT substr(region_code, 1, 6) || '000000', substr(region_code, 1, 4),
                     indicator, period, SUM(value) FROM v GROUP BY ALL
    UNION ALL SELECT substr(region_code, 1, 4) || '00000000', substr(region_code, 1, 2),
                     indicator, period, SUM(value) FROM v GROUP BY ALL),
  m AS (SELECT *, median(value) OVER g AS med, count(*) OVER g AS n FROM fig
        WINDOW g AS (PARTITION BY parent, indicator, period)),
  d AS (SELECT *, median(abs(value - med)) OVER (PARTITION BY parent, indicator, period) AS mad
        FROM m)
  SELECT 'spikes', code, indicator, period, med, value FROM d
  WHERE n >= 3 AND mad > 0 AND abs(0.6745 * (value - med) / mad) > 3.5`);
const t2 = performance.now();
await con.run(`COPY findings TO ${q(out)} (HEADER, DELIMITER ',')`);
const t3 = performance.now();
const counts = {};
for (const [k, n] of (await con.runAndReadAll(
    `SELECT "check", COUNT(*) FROM findings GROUP BY 1`)).getRows())
  counts[k] = Number(n);
console.log(JSON.stringify({ parse: (t1 - t0) / 1000, rollup: (t2 - t1) / 1000,
                             write: (t3 - t2) / 1000, findings: counts }));
