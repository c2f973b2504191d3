// Prints [file, num_rows] per line for the Parquet files named in a JSON array on stdin, as
// DuckDB reads their footers (num_rows null when DuckDB cannot read the footer). Used by
// all_files.py as the independent row count. Needs ORACLE_DIR (shared/tools/oracle-setup.sh).
import { createRequire } from 'node:module';
const require = createRequire(process.env.ORACLE_DIR + '/');
const { DuckDBInstance } = require('@duckdb/node-api');
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
const files = JSON.parse(require('fs').readFileSync(0, 'utf8'));
for (const f of files) {
  try {
    const r = await con.runAndReadAll(`SELECT num_rows FROM parquet_file_metadata('${f.replace(/'/g, "''")}')`);
    console.log(JSON.stringify([f, Number(r.getRows()[0][0])]));
  } catch (e) { console.log(JSON.stringify([f, null])); }
}
