// DuckDB side of the Delta MERGE benchmark (bench/delta_merge_bench.sh). ORACLE_DIR as for
// ../shared/tools/duckdb_canonical.mjs. Usage:
//   node delta_merge_duck.mjs generate DIR ROWS CHANGES
//        -> DIR/target.parquet (ROWS rows) and DIR/changes.parquet (CHANGES rows: 90% of them
//           existing ids with new values, 10% new ids)
//   node delta_merge_duck.mjs merge DIR THREADS REPEAT
//        -> loads target.parquet into a DuckDB table and times the same MERGE tarn runs, on a
//           fresh copy each time; prints seconds=S (best of REPEAT)
import { createRequire } from 'node:module';
const require = createRequire((process.env.ORACLE_DIR || process.cwd()) + '/');
const { DuckDBInstance } = require('@duckdb/node-api');

const [mode, dir, a1, a2] = process.argv.slice(2);
const q = (s) => `'${String(s).replace(/'/g, "''")}'`;
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();

if (mode === 'generate') {
  const rows = Number(a1), changes = Number(a2), existing = Math.floor(changes * 0.9);
  await con.run(`COPY (SELECT i::BIGINT AS id, (hash(i) % 1000000)::BIGINT AS v,
      'n' || (i % 1000)::VARCHAR AS name, DATE '2024-01-01' + (i % 365)::INTEGER AS day
    FROM range(${rows}) t(i)) TO ${q(dir + '/target.parquet')} (FORMAT parquet, COMPRESSION zstd)`);
  // Existing ids spread over the whole table, then new ids past its end.
  await con.run(`COPY (
      SELECT (i * ${Math.max(1, Math.floor(rows / existing))})::BIGINT AS id, -1::BIGINT AS v,
             'changed' AS name, DATE '2025-01-01' AS day FROM range(${existing}) t(i)
      UNION ALL
      SELECT (${rows} + i)::BIGINT, -2::BIGINT, 'new', DATE '2025-01-02' FROM range(${changes - existing}) t(i)
    ) TO ${q(dir + '/changes.parquet')} (FORMAT parquet, COMPRESSION zstd)`);
  process.stdout.write(`wrote ${dir}/target.parquet and changes.parquet\n`);
} else if (mode === 'merge') {
  await con.run(`SET threads = ${Number(a1)}`);
  let best = Infinity;
  for (let r = 0; r < Number(a2 || 3); r++) {
    await con.run(`CREATE OR REPLACE TABLE t AS SELECT * FROM read_parquet(${q(dir + '/target.parquet')})`);
    const t0 = process.hrtime.bigint();
    await con.run(`MERGE INTO t USING read_parquet(${q(dir + '/changes.parquet')}) AS s ON t.id = s.id
      WHEN MATCHED THEN UPDATE SET v = s.v, name = s.name
      WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.v, s.name, s.day)`);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (s < best) best = s;
  }
  process.stdout.write(`seconds=${best.toFixed(3)}\n`);
}
