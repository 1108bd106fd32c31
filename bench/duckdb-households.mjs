// The household job in DuckDB: P0, P1, P2 and Watts (person-weighted: a
// household counts its size) and the median income per capita (not
// weighted) at every code prefix of 2, 4, 6 and 9 digits (GROUPING SETS),
// written as CSV: digits,prefix,households,persons,p0,p1,p2,watts,median.
// The measures in %, as tally prints them; poor means income < line.
//
// Usage: node duckdb-households.mjs HOUSEHOLDS.csv LINE OUT.csv
// Prints the phase times as JSON on standard output.
import { DuckDBInstance } from '@duckdb/node-api';

const [input, line, out] = process.argv.slice(2);
const q = (s) => "'" + s.replaceAll("'", "''") + "'";
const z = Number(line);
if (!(z > 0)) throw new Error(`bad poverty line ${line}`);
const t0 = performance.now();
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
await con.run(`CREATE TABLE h AS SELECT * FROM read_csv(${q(input)}, header = true,
  columns = {'household_id': 'VARCHAR', 'region_code': 'VARCHAR', 'size': 'INTEGER',
             'income_per_capita': 'DOUBLE'})`);
const t1 = performance.now();
await con.run(`CREATE TABLE s AS
  SELECT CASE WHEN GROUPING(p9) = 0 THEN 9 WHEN GROUPING(p6) = 0 THEN 6
              WHEN GROUPING(p4) = 0 THEN 4 ELSE 2 END AS digits,
         COALESCE(p9, p6, p4, p2) AS prefix, COUNT(*) AS households, SUM(w) AS persons,
         100 * COALESCE(SUM(w) FILTER (WHERE y < ${z}), 0) / SUM(w) AS p0,
         100 * COALESCE(SUM(w * (${z} - y) / ${z}) FILTER (WHERE y < ${z}), 0) / SUM(w) AS p1,
         100 * COALESCE(SUM(w * pow((${z} - y) / ${z}, 2)) FILTER (WHERE y < ${z}), 0)
             / SUM(w) AS p2,
         100 * COALESCE(SUM(w * ln(${z} / y)) FILTER (WHERE y > 0 AND y < ${z}), 0)
             / SUM(w) AS watts,
         median(y) AS median
  FROM (SELECT substr(region_code, 1, 2) AS p2, substr(region_code, 1, 4) AS p4,
               substr(region_code, 1, 6) AS p6, substr(region_code, 1, 9) AS p9,
               CAST(size AS DOUBLE) AS w, income_per_capita AS y FROM h)
  GROUP BY GROUPING SETS ((p2), (p4), (p6), (p9))`);
const t2 = performance.now();
await con.run(`COPY s TO ${q(out)} (HEADER, DELIMITER ',')`);
const t3 = performance.now();
console.log(JSON.stringify({ parse: (t1 - t0) / 1000, rollup: (t2 - t1) / 1000,
                             write: (t3 - t2) / 1000 }));
