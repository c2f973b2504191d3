// Runs many SQL test blocks through DuckDB in ONE node process and writes each block's canonical
// rows, exactly as ../shared/tools/duckdb_canonical.mjs prints them for that query.
//
// usage: ORACLE_DIR=... node oracle_batch.mjs CANONICAL_MJS JOBS.json OUTDIR
//   JOBS.json: [{"key": "...", "statements": ["CREATE ...", "SELECT ..."]}, ...]
//   writes OUTDIR/KEY.jsonl (the rows of the last statement) or OUTDIR/KEY.err (DuckDB's error).
//
// The conversion to canonical rows is not copied here: duckdb_canonical.mjs is a script (its top
// level reads process.argv, runs the query and writes to stdout), so each job imports it afresh
// (a distinct URL per job, so the module is evaluated again) with process.argv set to
// `--sql LAST_STATEMENT` and process.stdout.write captured. Two hooks on the shared
// @duckdb/node-api module (the same CommonJS instance the script requires from $ORACLE_DIR):
//   - DuckDBConnection.runAndReadAll first runs the job's earlier statements (CREATE TABLE AS,
//     COPY ... TO) one by one on the same connection, then the last one as the script asked;
//   - DuckDBInstance.create / connect are recorded so each job's in-memory database is closed
//     once the script is done with it (the script itself never closes it).
// Everything else — the TimeZone setting, reading the result, every value conversion — is the
// script's own code.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [canonPath, jobsPath, outDir] = process.argv.slice(2);
if (!outDir) {
  process.stderr.write('usage: node oracle_batch.mjs CANONICAL_MJS JOBS.json OUTDIR\n');
  process.exit(2);
}
const require = createRequire((process.env.ORACLE_DIR || process.cwd()) + '/');
const api = require('@duckdb/node-api');
const { DuckDBInstance, DuckDBConnection } = api;

let current = null;            // the job being run: { setup: [...], instances: [], connections: [] }
const origCreate = DuckDBInstance.create.bind(DuckDBInstance);
DuckDBInstance.create = async (...a) => {
  const inst = await origCreate(...a);
  if (current) current.instances.push(inst);
  return inst;
};
const origConnect = DuckDBInstance.prototype.connect;
DuckDBInstance.prototype.connect = async function (...a) {
  const con = await origConnect.apply(this, a);
  if (current) current.connections.push(con);
  return con;
};
const origReadAll = DuckDBConnection.prototype.runAndReadAll;
DuckDBConnection.prototype.runAndReadAll = async function (sql, ...rest) {
  if (current && current.setup.length) {
    const setup = current.setup;
    current.setup = [];
    for (const s of setup) await this.run(s);
  }
  return origReadAll.call(this, sql, ...rest);
};

const jobs = JSON.parse(readFileSync(jobsPath, 'utf8'));
const canonUrl = pathToFileURL(canonPath).href;
const realWrite = process.stdout.write;
const realArgv = process.argv;
let n = 0;
for (const job of jobs) {
  const st = job.statements;
  current = { setup: st.slice(0, -1), instances: [], connections: [] };
  let out = '';
  process.argv = [realArgv[0], canonPath, '--sql', st[st.length - 1]];
  process.stdout.write = (chunk, ...rest) => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const cb = rest.find((x) => typeof x === 'function');
    if (cb) cb();
    return true;
  };
  let error = null;
  try {
    await import(`${canonUrl}?job=${n++}`);
  } catch (e) {
    error = e;
  } finally {
    process.stdout.write = realWrite;
    process.argv = realArgv;
  }
  for (const c of current.connections) { try { c.closeSync(); } catch { /* already closed */ } }
  for (const i of current.instances) { try { i.closeSync(); } catch { /* already closed */ } }
  current = null;
  if (error) {
    writeFileSync(`${outDir}/${job.key}.err`, String(error && error.message || error) + '\n');
  } else {
    writeFileSync(`${outDir}/${job.key}.jsonl`, out);
  }
}
