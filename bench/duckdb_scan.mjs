// DuckDB side of the scan benchmark (bench/run.sh). Usage, with ORACLE_DIR set as for
// ../shared/tools/duckdb_canonical.mjs:
//   node duckdb_scan.mjs generate FILE ROWS   -> writes the benchmark file (zstd Parquet)
//   node duckdb_scan.mjs scan FILE THREADS [REPEAT]
//        -> times a query that decodes every column (count of non-nulls, min and max of each);
//           prints: threads=N rows=R seconds=S rows_per_s=X max_rss_kb=K (best of REPEAT runs;
//           max_rss_kb is this node process's peak, DuckDB included)
import { createRequire } from 'node:module';
const require = createRequire((process.env.ORACLE_DIR || process.cwd()) + '/');
const { DuckDBInstance } = require('@duckdb/node-api');

const [mode, file, arg, repeatArg] = process.argv.slice(2);
const quoted = `'${String(file).replace(/'/g, "''")}'`;
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();

if (mode === 'generate') {
  const rows = Number(arg);
  // ids int64; ints int32 with 10% nulls; doubles; short strings; a dictionary-friendly category;
  // timestamps; decimals. hash() keeps values deterministic yet spread out.
  await con.run(`COPY (
    SELECT
      i::BIGINT AS id,
      CASE WHEN i % 10 = 3 THEN NULL ELSE (hash(i) % 2000000)::INTEGER - 1000000 END AS int_col,
      (hash(i + 1) % 1000000007) / 1000.0 AS double_col,
      'u' || (hash(i + 2) % 100000)::VARCHAR AS str_col,
      (['books', 'games', 'garden', 'music', 'toys', 'tools', 'food', 'sport'])[(i % 8) + 1] AS category,
      TIMESTAMP '2024-01-01 00:00:00' + INTERVAL (i * 997) MILLISECOND AS ts,
      ((hash(i + 3) % 10000000)::DECIMAL(18,0) / 100)::DECIMAL(18,2) AS price
    FROM range(${rows}) t(i)
  ) TO ${quoted} (FORMAT parquet, COMPRESSION zstd)`);
  process.stdout.write(`wrote ${file}\n`);
} else if (mode === 'scan') {
  const threads = Number(arg), repeat = Number(repeatArg || 3);
  await con.run(`SET threads = ${threads}`);
  const cols = ['id', 'int_col', 'double_col', 'str_col', 'category', 'ts', 'price'];
  const aggs = cols.map((c) => `count(${c}), min(${c}), max(${c})`).join(', ');
  const sql = `SELECT count(*) AS n, ${aggs} FROM read_parquet(${quoted})`;
  let best = Infinity, rows = 0;
  for (let r = 0; r < repeat; r++) {
    const t0 = performance.now();
    const reader = await con.runAndReadAll(sql);
    const seconds = (performance.now() - t0) / 1000;
    rows = Number(reader.getRows()[0][0]);
    if (seconds < best) best = seconds;
  }
  const rss = process.resourceUsage().maxRSS;
  process.stdout.write(`threads=${threads} rows=${rows} seconds=${best.toFixed(3)} ` +
    `rows_per_s=${Math.round(rows / best)} max_rss_kb=${rss}\n`);
} else {
  process.stderr.write('usage: duckdb_scan.mjs generate FILE ROWS | scan FILE THREADS [REPEAT]\n');
  process.exit(2);
}
