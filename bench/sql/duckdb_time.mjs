// DuckDB side of bench/sql_bench.sh: times each query file in one DuckDB instance (node, with
// ORACLE_DIR set as for ../shared/tools/duckdb_canonical.mjs).
//   node duckdb_time.mjs DATA_DIR THREADS REPEAT FILE.sql...
// For each file prints one line: `name=NAME seconds=BEST rows=N` (best of REPEAT runs of the
// query, its result read in full; ${DATA} in the file is replaced by DATA_DIR), or
// `name=NAME error=MESSAGE`.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

const require = createRequire((process.env.ORACLE_DIR || process.cwd()) + '/');
const { DuckDBInstance } = require('@duckdb/node-api');

const [data, threads, repeatArg, ...files] = process.argv.slice(2);
if (!files.length) {
  process.stderr.write('usage: node duckdb_time.mjs DATA_DIR THREADS REPEAT FILE.sql...\n');
  process.exit(2);
}
const repeat = Math.max(1, Number(repeatArg) || 1);
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
await con.run(`SET threads = ${Number(threads) || 1}`);
await con.run("SET TimeZone = 'UTC'");
for (const f of files) {
  const name = basename(f).replace(/\.sql$/, '');
  const sql = readFileSync(f, 'utf8').split('${DATA}').join(data);
  let best = Infinity, rows = 0;
  try {
    for (let r = 0; r < repeat; r++) {
      const t0 = process.hrtime.bigint();
      const reader = await con.runAndReadAll(sql);
      rows = reader.getRows().length;
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      if (s < best) best = s;
    }
    process.stdout.write(`name=${name} seconds=${best.toFixed(4)} rows=${rows}\n`);
  } catch (e) {
    process.stdout.write(`name=${name} error=${String(e.message || e).split('\n')[0]}\n`);
  }
}
con.closeSync();
inst.closeSync();
