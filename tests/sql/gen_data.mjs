// Deterministic test and benchmark data for the SQL tests (tests/sql/*.test) and bench/sql_bench.sh,
// written as Parquet by DuckDB (the oracle install: ORACLE_DIR as for
// ../shared/tools/duckdb_canonical.mjs).
//
// usage: ORACLE_DIR=... node gen_data.mjs OUTDIR [--sf 0.01] [--events 240000] [--days 3]
//          [--products 1000] [--event-files 4] [--lineitem-files 4] [--row-group-size 10000]
//          [--threads 1] [--only types,small,multi,tpch,workload]
//
// Every value comes from range() and DuckDB's hash() of the row number, so the same options give
// the same rows (and, with --threads 1, the same bytes) on every run. The layout of OUTDIR:
//
//   types/part-0.parquet, part-1.parquet   one column of every type (3000 rows, nulls, extremes,
//                                          NaN/Infinity, row groups of 500 rows)
//   small/{emp,dept,tri,lt,rt}.parquet      tiny hand-shaped tables for joins and NULL semantics
//   multi/a/a1.parquet, a2.parquet, multi/b/x.parquet, y.parquet   for globs and lists of globs
//   tpch/{region,nation,supplier,customer,part,orders,lineitem}/*.parquet
//                                          TPC-H schema and value distributions (spec 4.2.3), scale --sf
//   workload/{events,products,orders}/*.parquet
//                                          DESIGN.md's reference workload: events sorted by
//                                          event_time over --event-files files of small row groups
//
// Fixed points the .test files rely on: the workload's events end at 2024-04-01 00:00:00 UTC and
// span --days days before it; TPC-H dates follow the spec (orders 1992-01-01 .. 1998-08-02).
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';

const require = createRequire((process.env.ORACLE_DIR || process.cwd()) + '/');
const { DuckDBInstance } = require('@duckdb/node-api');

const argv = process.argv.slice(2);
const opt = { sf: 0.01, events: 240000, days: 3, products: 1000, 'event-files': 4,
  'lineitem-files': 4, 'row-group-size': 10000, threads: 1,
  only: 'types,small,multi,tpch,workload' };
let out = null;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a.startsWith('--')) {
    const k = a.slice(2);
    if (!(k in opt) || i + 1 >= argv.length) { usage(`unknown or incomplete option ${a}`); }
    opt[k] = k === 'only' ? argv[++i] : Number(argv[++i]);
    if (k !== 'only' && !Number.isFinite(opt[k])) usage(`bad value for ${a}`);
  } else if (out === null) out = a;
  else usage(`unexpected argument ${a}`);
}
if (out === null) usage('OUTDIR is missing');
function usage(msg) {
  process.stderr.write(`gen_data.mjs: ${msg}\nusage: node gen_data.mjs OUTDIR [--sf X] [--events N] ` +
    '[--days N] [--products N] [--event-files N] [--lineitem-files N] [--row-group-size N] ' +
    '[--threads N] [--only types,small,multi,tpch,workload]\n');
  process.exit(2);
}
const only = new Set(opt.only.split(','));
const q = (s) => `'${String(s).replace(/'/g, "''")}'`;

const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
await con.run(`SET threads = ${Math.max(1, Math.floor(opt.threads))}`);
await con.run("SET TimeZone = 'UTC'");
await con.run('SET preserve_insertion_order = true');

// Pseudo-random helpers: r(i, salt) is a UBIGINT, u(i, salt) a double in [0, 1).
await con.run('CREATE MACRO r(i, s) AS hash(i, s)');
await con.run('CREATE MACRO ri(i, s, n) AS (hash(i, s) % n)::BIGINT');
await con.run('CREATE MACRO u(i, s) AS (hash(i, s) % 1000000007)::DOUBLE / 1000000007');
// An exact DECIMAL(p,2) from an integer number of cents.
await con.run('CREATE MACRO cents(x) AS (CAST(x AS DECIMAL(18,0)) * CAST(0.01 AS DECIMAL(3,2)))');
const WORDS = ['furiously', 'quickly', 'carefully', 'blithely', 'slyly', 'ironic', 'final', 'bold',
  'regular', 'express', 'pending', 'special', 'even', 'silent', 'unusual', 'daring', 'deposits',
  'requests', 'accounts', 'packages', 'theodolites', 'foxes', 'pinto beans', 'instructions'];
await con.run(`CREATE MACRO word(i, s) AS ([${WORDS.map(q).join(', ')}])[1 + ri(i, s, ${WORDS.length})]`);
await con.run('CREATE MACRO words(i, s) AS word(i, s) || \' \' || word(i, s + 1) || \' \' || word(i, s + 2)');

async function copy(select, file, rowGroup) {
  mkdirSync(file.slice(0, file.lastIndexOf('/')), { recursive: true });
  const rg = rowGroup ? `, ROW_GROUP_SIZE ${rowGroup}` : '';
  await con.run(`COPY (${select}) TO ${q(file)} (FORMAT parquet, COMPRESSION zstd${rg})`);
}
const log = (m) => process.stderr.write(`gen_data: ${m}\n`);

// ---------------------------------------------------------------------------------------------
if (only.has('types')) {
  log('types');
  const S = ['', 'a%b', 'under_score', 'back\\slash', 'Ünïcödé straße', 'emoji 🦆 duck', '  padded  ',
    'MiXeD CaSe', 'line\nbreak', 'tab\there', 'quote\'s', 'x', 'abc', 'ABC', 'abcdef', 'hello world'];
  await con.run(`CREATE TABLE types AS SELECT
    i::BIGINT AS id,
    CASE WHEN i % 11 = 3 THEN NULL WHEN i = 0 THEN -32768 WHEN i = 1 THEN 32767
         ELSE ri(i, 1, 65536) - 32768 END::SMALLINT AS i16,
    CASE WHEN i % 13 = 4 THEN NULL WHEN i = 0 THEN -2147483648 WHEN i = 1 THEN 2147483647
         ELSE ri(i, 2, 4294967296) - 2147483648 END::INTEGER AS i32,
    CASE WHEN i % 17 = 5 THEN NULL WHEN i = 0 THEN -9223372036854775808 WHEN i = 1 THEN 9223372036854775807
         ELSE (r(i, 3) % 18446744073709551615)::HUGEINT - 9223372036854775807 END::BIGINT AS i64,
    CASE WHEN i % 7 = 6 THEN NULL ELSE ri(i, 4, 2001) - 1000 END::INTEGER AS small,
    CASE WHEN i % 19 = 7 THEN NULL ELSE ((ri(i, 5, 200001) - 100000) / 64.0)::REAL END AS f32,
    CASE WHEN i % 23 = 8 THEN NULL WHEN i = 5 THEN 'NaN'::DOUBLE WHEN i = 6 THEN 'Infinity'::DOUBLE
         WHEN i = 7 THEN '-Infinity'::DOUBLE ELSE (u(i, 6) - 0.5) * 1e6 END AS f64,
    CASE WHEN i % 29 = 9 THEN NULL ELSE cents(ri(i, 7, 19999) - 9999)::DECIMAL(4,2) END AS d1,
    CASE WHEN i % 31 = 10 THEN NULL ELSE (cents(ri(i, 8, 1999999999) - 999999999) * CAST(0.1 AS DECIMAL(2,1)))::DECIMAL(9,3) END AS d2,
    CASE WHEN i % 37 = 11 THEN NULL
         ELSE (CAST(ri(i, 9, 1999999999999) - 999999999999 AS DECIMAL(18,0)) * CAST(0.000001 AS DECIMAL(7,6)))::DECIMAL(18,6) END AS d3,
    CASE WHEN i % 41 = 12 THEN NULL
         ELSE (CAST((r(i, 10) % 10000000000000000000)::HUGEINT * 1000000000 + ri(i, 11, 1000000000) AS DECIMAL(38,0))
               * CAST(0.0000000001 AS DECIMAL(11,10)) * (CASE WHEN i % 2 = 0 THEN 1 ELSE -1 END))::DECIMAL(38,10) END AS d4,
    CASE WHEN i % 43 = 13 THEN NULL WHEN i % 3 = 0 THEN 'w' || (i % 100)::VARCHAR
         ELSE ([${S.map(q).join(', ')}])[1 + ri(i, 12, ${S.length})] END AS s,
    CASE WHEN i % 5 = 4 THEN NULL ELSE ri(i, 13, 2) = 1 END AS b,
    CASE WHEN i % 47 = 14 THEN NULL ELSE DATE '1900-01-01' + ri(i, 14, 55000)::INTEGER END AS dt,
    CASE WHEN i % 53 = 15 THEN NULL
         ELSE TIMESTAMP '1960-01-01 00:00:00' + to_microseconds(ri(i, 15, 2500000000000000)) END AS ts,
    CASE WHEN i % 59 = 16 THEN NULL
         ELSE TIMESTAMPTZ '2000-01-01 00:00:00+00' + to_microseconds(ri(i, 16, 1000000000000000)) END AS tstz,
    CASE WHEN i % 61 = 17 THEN NULL ELSE TIME '00:00:00' + to_microseconds(ri(i, 17, 86400000000)) END AS tm,
    CASE WHEN i % 67 = 18 THEN NULL WHEN i % 67 = 19 THEN ''::BLOB
         ELSE from_hex(printf('%016x', r(i, 18))) END AS bin,
    CASE WHEN i % 71 = 20 THEN NULL
         ELSE printf('%08x-%04x-%04x-%04x-%012x', r(i, 19) % 4294967296, r(i, 20) % 65536, r(i, 21) % 65536,
                     r(i, 22) % 65536, r(i, 23) % 281474976710656)::UUID END AS u,
    CASE WHEN i % 9 = 2 THEN NULL
         ELSE list_slice([ri(i, 24, 100)::INTEGER, CASE WHEN i % 4 = 1 THEN NULL ELSE ri(i, 25, 100)::INTEGER END,
                          ri(i, 26, 100)::INTEGER, ri(i, 27, 100)::INTEGER], 1, ri(i, 28, 5)) END AS li,
    CASE WHEN i % 10 = 3 THEN NULL
         ELSE list_slice([word(i, 29), word(i, 30), CASE WHEN i % 6 = 1 THEN NULL ELSE word(i, 31) END], 1, ri(i, 32, 4)) END AS ls,
    CASE WHEN i % 12 = 5 THEN NULL
         ELSE {'a': CASE WHEN i % 8 = 3 THEN NULL ELSE ri(i, 33, 1000)::INTEGER END,
               'b': CASE WHEN i % 16 = 7 THEN NULL ELSE word(i, 34) END} END AS st,
    CASE WHEN i % 14 = 6 THEN NULL
         ELSE MAP(list_slice(['k1', 'k2', 'k3'], 1, ri(i, 35, 4)),
                  list_slice([ri(i, 36, 50)::INTEGER, ri(i, 37, 50)::INTEGER, ri(i, 38, 50)::INTEGER], 1, ri(i, 35, 4))) END AS mp,
    CASE WHEN i % 15 = 8 THEN NULL
         ELSE [list_slice([i::INTEGER, (i + 1)::INTEGER], 1, ri(i, 39, 3)), []::INTEGER[]] END AS ll
  FROM range(3000) t(i)`);
  await copy('SELECT * FROM types WHERE id < 2000 ORDER BY id', `${out}/types/part-0.parquet`, 500);
  await copy('SELECT * FROM types WHERE id >= 2000 ORDER BY id', `${out}/types/part-1.parquet`, 500);
}

// ---------------------------------------------------------------------------------------------
if (only.has('small')) {
  log('small');
  // Employees: dept_id NULL for two, one pointing at a department that does not exist (99);
  // manager_id forms a tree rooted at 1; salary decimal, bonus double with NULLs.
  const names = ['Ada', 'Brian', 'Chen', 'Dana', 'Eve', 'Farid', 'Gus', 'Hana', 'Ivan', 'Jun', 'Kofi',
    'Lena', 'Mo', 'Nia', 'Omar', 'Pia', 'Quinn', 'Rosa', 'Sam', 'Tao', 'Uma', 'Vic', 'Wen', 'Xia'];
  await con.run(`CREATE TABLE emp AS SELECT
      (i + 1)::INTEGER AS id,
      ([${names.map(q).join(', ')}])[i + 1] AS name,
      CASE WHEN i IN (7, 15) THEN NULL WHEN i = 20 THEN 99 ELSE 1 + i % 5 END::INTEGER AS dept_id,
      CASE WHEN i = 0 THEN NULL ELSE 1 + (i - 1) // 3 END::INTEGER AS manager_id,
      cents(300000 + ri(i, 1, 900000) // 100 * 100)::DECIMAL(10,2) AS salary,
      CASE WHEN i % 4 = 1 THEN NULL ELSE round(u(i, 2) * 5000, 2) END AS bonus,
      DATE '2015-01-01' + ri(i, 3, 3000)::INTEGER AS hired,
      i % 6 <> 5 AS active,
      CASE WHEN i % 7 = 3 THEN NULL ELSE (['eng', 'ops', 'sales'])[1 + i % 3] END AS role
    FROM range(24) t(i)`);
  await copy('SELECT * FROM emp ORDER BY id', `${out}/small/emp.parquet`);
  await con.run(`CREATE TABLE dept AS SELECT * FROM (VALUES
      (1, 'Engineering', 500000.00::DECIMAL(12,2), 'Berlin'),
      (2, 'Operations', 120000.50::DECIMAL(12,2), 'Lisbon'),
      (3, 'Sales', 250000.00::DECIMAL(12,2), NULL),
      (4, 'Research', 75000.25::DECIMAL(12,2), 'Berlin'),
      (5, 'Support', 60000.00::DECIMAL(12,2), 'Nairobi'),
      (6, 'Legal', 90000.00::DECIMAL(12,2), 'Lisbon')) v(dept_id, dept_name, budget, location)`);
  await copy('SELECT dept_id::INTEGER AS dept_id, dept_name, budget, location FROM dept ORDER BY dept_id',
    `${out}/small/dept.parquet`);
  // Three-valued logic: every combination of (1, 2, NULL) for a and b, with s and f.
  await con.run(`CREATE TABLE tri AS SELECT
      (x * 3 + y + 1)::INTEGER AS id,
      CASE x WHEN 0 THEN 1 WHEN 1 THEN 2 END::INTEGER AS a,
      CASE y WHEN 0 THEN 1 WHEN 1 THEN 2 END::INTEGER AS b,
      CASE (x + y) % 3 WHEN 0 THEN 'x' WHEN 1 THEN NULL ELSE 'yz' END AS s,
      CASE (x * 2 + y) % 3 WHEN 0 THEN true WHEN 1 THEN false END AS f
    FROM range(3) tx(x), range(3) ty(y)`);
  await copy('SELECT * FROM tri ORDER BY id', `${out}/small/tri.parquet`);
  // Join sides with duplicate and NULL keys.
  await copy(`SELECT k::INTEGER AS k, lv FROM (VALUES (1, 'l1'), (2, 'l2a'), (2, 'l2b'), (3, 'l3'),
                (NULL, 'lnull'), (5, 'l5')) v(k, lv)`, `${out}/small/lt.parquet`);
  await copy(`SELECT k::INTEGER AS k, rv FROM (VALUES (2, 'r2'), (3, 'r3a'), (3, 'r3b'), (4, 'r4'),
                (NULL, 'rnull'), (NULL, 'rnull2')) v(k, rv)`, `${out}/small/rt.parquet`);
}

// ---------------------------------------------------------------------------------------------
if (only.has('multi')) {
  log('multi');
  const part = (name, lo, hi) => copy(
    `SELECT i::INTEGER AS id, ${q(name)} AS src, (i * 1.5)::DOUBLE AS x FROM range(${lo}, ${hi}) t(i)`,
    `${out}/multi/${name}.parquet`);
  await part('a/a1', 0, 100);
  await part('a/a2', 100, 250);
  await part('b/x', 1000, 1010);
  await part('b/y', 2000, 2500);
}

// ---------------------------------------------------------------------------------------------
if (only.has('tpch')) {
  const sf = opt.sf;
  const S = Math.max(1, Math.round(10000 * sf)), C = Math.max(3, Math.round(150000 * sf));
  const O = Math.max(1, Math.round(1500000 * sf)), P = Math.max(1, Math.round(200000 * sf));
  log(`tpch sf=${sf}: ${S} suppliers, ${C} customers, ${O} orders, ${P} parts`);
  const T = `${out}/tpch`;
  await copy(`SELECT r_regionkey::INTEGER AS r_regionkey, r_name, words(r_regionkey, 1) AS r_comment FROM (VALUES
      (0, 'AFRICA'), (1, 'AMERICA'), (2, 'ASIA'), (3, 'EUROPE'), (4, 'MIDDLE EAST')) v(r_regionkey, r_name)
      ORDER BY 1`, `${T}/region/region.parquet`);
  const N = [['ALGERIA', 0], ['ARGENTINA', 1], ['BRAZIL', 1], ['CANADA', 1], ['EGYPT', 4], ['ETHIOPIA', 0],
    ['FRANCE', 3], ['GERMANY', 3], ['INDIA', 2], ['INDONESIA', 2], ['IRAN', 4], ['IRAQ', 4], ['JAPAN', 2],
    ['JORDAN', 4], ['KENYA', 0], ['MOROCCO', 0], ['MOZAMBIQUE', 0], ['PERU', 1], ['CHINA', 2], ['ROMANIA', 3],
    ['SAUDI ARABIA', 4], ['VIETNAM', 2], ['RUSSIA', 3], ['UNITED KINGDOM', 3], ['UNITED STATES', 1]];
  await copy(`SELECT n_nationkey::INTEGER AS n_nationkey, n_name, n_regionkey::INTEGER AS n_regionkey,
      words(n_nationkey, 4) AS n_comment FROM (VALUES ${N.map(([n, r], k) => `(${k}, ${q(n)}, ${r})`).join(', ')})
      v(n_nationkey, n_name, n_regionkey) ORDER BY 1`, `${T}/nation/nation.parquet`);
  const phone = (i, s, nk) => `(${nk} + 10)::VARCHAR || '-' || (100 + ri(${i}, ${s}, 900))::VARCHAR || '-' ||
      (100 + ri(${i}, ${s} + 1, 900))::VARCHAR || '-' || (1000 + ri(${i}, ${s} + 2, 9000))::VARCHAR`;
  await copy(`SELECT k::INTEGER AS s_suppkey, 'Supplier#' || lpad(k::VARCHAR, 9, '0') AS s_name,
      'addr ' || word(k, 301) || ' ' || ri(k, 302, 10000)::VARCHAR AS s_address,
      nk::INTEGER AS s_nationkey, ${phone('k', 303, 'nk')} AS s_phone,
      cents(ri(k, 306, 1099999) - 99999)::DECIMAL(15,2) AS s_acctbal, words(k, 307) AS s_comment
    FROM (SELECT i AS k, ri(i, 300, 25) AS nk FROM range(1, ${S + 1}) t(i)) ORDER BY k`,
  `${T}/supplier/supplier.parquet`);
  await copy(`SELECT k::INTEGER AS c_custkey, 'Customer#' || lpad(k::VARCHAR, 9, '0') AS c_name,
      'addr ' || word(k, 401) || ' ' || ri(k, 402, 10000)::VARCHAR AS c_address,
      nk::INTEGER AS c_nationkey, ${phone('k', 403, 'nk')} AS c_phone,
      cents(ri(k, 406, 1099999) - 99999)::DECIMAL(15,2) AS c_acctbal,
      (['AUTOMOBILE', 'BUILDING', 'FURNITURE', 'MACHINERY', 'HOUSEHOLD'])[1 + ri(k, 407, 5)] AS c_mktsegment,
      words(k, 408) AS c_comment
    FROM (SELECT i AS k, ri(i, 400, 25) AS nk FROM range(1, ${C + 1}) t(i)) ORDER BY k`,
  `${T}/customer/customer.parquet`);
  // p_retailprice per spec 4.2.3: (90000 + ((partkey/10) mod 20001) + 100 * (partkey mod 1000)) / 100
  await con.run(`CREATE MACRO retail_cents(pk) AS 90000 + ((pk // 10) % 20001) + 100 * (pk % 1000)`);
  const COLORS = ['almond', 'antique', 'aquamarine', 'azure', 'beige', 'bisque', 'black', 'blue', 'blush',
    'brown', 'burlywood', 'chartreuse', 'chocolate', 'coral', 'cornflower', 'cream', 'cyan', 'forest', 'green'];
  await copy(`SELECT k::INTEGER AS p_partkey,
      ([${COLORS.map(q).join(', ')}])[1 + ri(k, 501, ${COLORS.length})] || ' ' ||
      ([${COLORS.map(q).join(', ')}])[1 + ri(k, 502, ${COLORS.length})] AS p_name,
      'Manufacturer#' || m::VARCHAR AS p_mfgr, 'Brand#' || m::VARCHAR || (1 + ri(k, 503, 5))::VARCHAR AS p_brand,
      (['STANDARD', 'SMALL', 'MEDIUM', 'LARGE', 'ECONOMY', 'PROMO'])[1 + ri(k, 504, 6)] || ' ' ||
      (['ANODIZED', 'BURNISHED', 'PLATED', 'POLISHED', 'BRUSHED'])[1 + ri(k, 505, 5)] || ' ' ||
      (['TIN', 'NICKEL', 'BRASS', 'STEEL', 'COPPER'])[1 + ri(k, 506, 5)] AS p_type,
      (1 + ri(k, 507, 50))::INTEGER AS p_size,
      (['SM', 'LG', 'MED', 'JUMBO', 'WRAP'])[1 + ri(k, 508, 5)] || ' ' ||
      (['CASE', 'BOX', 'BAG', 'JAR', 'PKG', 'PACK', 'CAN', 'DRUM'])[1 + ri(k, 509, 8)] AS p_container,
      cents(retail_cents(k))::DECIMAL(15,2) AS p_retailprice, words(k, 510) AS p_comment
    FROM (SELECT i AS k, 1 + ri(i, 500, 5) AS m FROM range(1, ${P + 1}) t(i)) ORDER BY k`,
  `${T}/part/part.parquet`);
  // Orders and their line items (1..7 per order), then the order columns derived from the lines.
  await con.run(`CREATE TABLE o0 AS SELECT i AS o_orderkey,
      CASE WHEN ck % 3 = 0 THEN ck - 1 ELSE ck END AS o_custkey,
      DATE '1992-01-01' + ri(i, 601, 2406)::INTEGER AS o_orderdate,
      (['1-URGENT', '2-HIGH', '3-MEDIUM', '4-NOT SPECIFIED', '5-LOW'])[1 + ri(i, 602, 5)] AS o_orderpriority,
      'Clerk#' || lpad((1 + ri(i, 603, ${Math.max(1, Math.round(1000 * sf))}))::VARCHAR, 9, '0') AS o_clerk,
      words(i, 604) AS o_comment, 1 + ri(i, 605, 7) AS nlines
    FROM (SELECT i, 1 + ri(i, 600, ${C}) AS ck FROM range(1, ${O + 1}) t(i))`);
  await con.run(`CREATE TABLE l0 AS SELECT *,
      CASE WHEN l_receiptdate <= DATE '1995-06-17' THEN (CASE WHEN ri(j, 711, 2) = 0 THEN 'R' ELSE 'A' END)
           ELSE 'N' END AS l_returnflag,
      CASE WHEN l_shipdate > DATE '1995-06-17' THEN 'O' ELSE 'F' END AS l_linestatus
    FROM (SELECT o_orderkey AS l_orderkey, pk AS l_partkey, 1 + ri(j, 702, ${S}) AS l_suppkey,
            ln AS l_linenumber, qty AS l_quantity,
            cents(qty * retail_cents(pk))::DECIMAL(15,2) AS l_extendedprice,
            cents(ri(j, 703, 11))::DECIMAL(15,2) AS l_discount,
            cents(ri(j, 704, 9))::DECIMAL(15,2) AS l_tax,
            sd AS l_shipdate, o_orderdate + (30 + ri(j, 705, 61))::INTEGER AS l_commitdate,
            sd + (1 + ri(j, 706, 30))::INTEGER AS l_receiptdate,
            (['DELIVER IN PERSON', 'COLLECT COD', 'NONE', 'TAKE BACK RETURN'])[1 + ri(j, 707, 4)] AS l_shipinstruct,
            (['REG AIR', 'AIR', 'RAIL', 'SHIP', 'TRUCK', 'MAIL', 'FOB'])[1 + ri(j, 708, 7)] AS l_shipmode,
            words(j, 709) AS l_comment, j
          FROM (SELECT o.*, ln, o_orderkey * 8 + ln AS j,
                  1 + ri(o_orderkey * 8 + ln, 700, ${P}) AS pk, 1 + ri(o_orderkey * 8 + ln, 701, 50) AS qty,
                  o_orderdate + (1 + ri(o_orderkey * 8 + ln, 710, 121))::INTEGER AS sd
                FROM o0 o, range(1, 8) r(ln) WHERE ln <= o.nlines))`);
  const li = Math.max(1, Math.floor(opt['lineitem-files']));
  for (let f = 0; f < li; f++) {
    const lo = Math.floor(O * f / li) + 1, hi = Math.floor(O * (f + 1) / li) + 1;
    await copy(`SELECT l_orderkey::BIGINT AS l_orderkey, l_partkey::INTEGER AS l_partkey,
        l_suppkey::INTEGER AS l_suppkey, l_linenumber::INTEGER AS l_linenumber,
        l_quantity::DECIMAL(15,2) AS l_quantity, l_extendedprice, l_discount, l_tax, l_returnflag,
        l_linestatus, l_shipdate, l_commitdate, l_receiptdate, l_shipinstruct, l_shipmode, l_comment
      FROM l0 WHERE l_orderkey >= ${lo} AND l_orderkey < ${hi} ORDER BY l_orderkey, l_linenumber`,
    `${T}/lineitem/lineitem-${f}.parquet`, opt['row-group-size'] * 4);
  }
  await con.run(`CREATE TABLE o1 AS SELECT l_orderkey,
      round(sum(l_extendedprice * (1 + l_tax) * (1 - l_discount)), 2)::DECIMAL(15,2) AS tot,
      CASE WHEN bool_and(l_linestatus = 'F') THEN 'F' WHEN bool_and(l_linestatus = 'O') THEN 'O' ELSE 'P' END AS st
    FROM l0 GROUP BY l_orderkey`);
  const of = Math.max(1, Math.floor(li / 2));
  for (let f = 0; f < of; f++) {
    const lo = Math.floor(O * f / of) + 1, hi = Math.floor(O * (f + 1) / of) + 1;
    await copy(`SELECT o.o_orderkey::BIGINT AS o_orderkey, o.o_custkey::INTEGER AS o_custkey,
        x.st AS o_orderstatus, x.tot AS o_totalprice, o.o_orderdate, o.o_orderpriority, o.o_clerk,
        0::INTEGER AS o_shippriority, o.o_comment
      FROM o0 o JOIN o1 x ON x.l_orderkey = o.o_orderkey
      WHERE o.o_orderkey >= ${lo} AND o.o_orderkey < ${hi} ORDER BY o.o_orderkey`,
    `${T}/orders/orders-${f}.parquet`, opt['row-group-size'] * 4);
  }
  await con.run('DROP TABLE l0; DROP TABLE o0; DROP TABLE o1');
}

// ---------------------------------------------------------------------------------------------
if (only.has('workload')) {
  const E = Math.floor(opt.events), D = opt.days, NP = Math.floor(opt.products);
  const W = `${out}/workload`;
  log(`workload: ${E} events over ${D} days, ${NP} products`);
  const CATS = ['tools', 'toys', 'food', 'books', 'garden', 'music', 'sport', 'beauty', 'games', 'office',
    'pets', 'auto'];
  await con.run(`CREATE MACRO price_cents(pid) AS 99 + ri(pid, 801, 50000)`);
  await copy(`SELECT i::BIGINT AS product_id,
      word(i, 802) || ' ' || (['Widget', 'Gadget', 'Gizmo', 'Doohickey', 'Sprocket'])[1 + ri(i, 803, 5)] || ' ' || i::VARCHAR AS name,
      cents(price_cents(i))::DECIMAL(10,2) AS price,
      ([${CATS.map(q).join(', ')}])[1 + ri(i, 804, ${CATS.length})] AS category,
      TIMESTAMP '2024-01-01 00:00:00' + to_seconds(ri(i, 805, 90 * 86400)) AS updated_at
    FROM range(1, ${NP + 1}) t(i) ORDER BY i`, `${W}/products/products.parquet`);
  // Events sorted by event_time: event i falls in its own slot of the span, so time grows with i.
  const spanUs = BigInt(Math.round(D * 86400)) * 1000000n;
  const step = spanUs / BigInt(Math.max(1, E));
  await con.run(`CREATE TABLE ev AS SELECT i::BIGINT AS event_id,
      (1 + ri(i, 901, ${Math.max(10, Math.floor(E / 20))}))::BIGINT AS user_id,
      CASE WHEN ri(i, 902, 100) < 60 THEN 'view' WHEN ri(i, 902, 100) < 82 THEN 'click'
           WHEN ri(i, 902, 100) < 95 THEN 'add_to_cart' ELSE 'purchase' END AS event_type,
      TIMESTAMPTZ '2024-04-01 00:00:00+00' - to_microseconds(${spanUs}) +
        to_microseconds(i * ${step} + ri(i, 903, ${step > 0n ? step : 1n})) AS event_time,
      (1 + floor(${NP} * pow(u(i, 904), 3)))::BIGINT AS product_id,
      {'page': '/p/' || ri(i, 905, 500)::VARCHAR,
       'duration_ms': CASE WHEN i % 9 = 4 THEN NULL ELSE ri(i, 906, 60000)::INTEGER END,
       'referrer': CASE WHEN i % 3 = 0 THEN NULL ELSE (['search', 'ad', 'email', 'direct'])[1 + ri(i, 907, 4)] END} AS data
    FROM range(${E}) t(i)`);
  await con.run(`CREATE TABLE ord AS SELECT row_number() OVER (ORDER BY event_id) AS order_id, *
    FROM ev WHERE event_type = 'purchase'`);
  await con.run(`CREATE TABLE ord2 AS SELECT order_id, event_id, user_id, event_time AS created_at,
      1 + ri(order_id, 910, 3) AS n,
      product_id AS p1, 1 + ri(order_id, 911, ${NP}) AS p2, 1 + ri(order_id, 912, ${NP}) AS p3,
      1 + ri(order_id, 913, 3) AS q1, 1 + ri(order_id, 914, 5) AS q2, 1 + ri(order_id, 915, 2) AS q3,
      (['placed', 'paid', 'shipped', 'delivered', 'cancelled'])[1 + ri(order_id, 916, 5)] AS status,
      event_time + to_seconds(ri(order_id, 917, 3 * 86400)) AS updated_at
    FROM ord`);
  await copy(`SELECT order_id::BIGINT AS order_id, user_id,
      list_slice([{'product_id': p1::BIGINT, 'quantity': q1::INTEGER, 'unit_price': cents(price_cents(p1))::DECIMAL(10,2)},
                  {'product_id': p2::BIGINT, 'quantity': q2::INTEGER, 'unit_price': cents(price_cents(p2))::DECIMAL(10,2)},
                  {'product_id': p3::BIGINT, 'quantity': q3::INTEGER, 'unit_price': cents(price_cents(p3))::DECIMAL(10,2)}], 1, n) AS products,
      cents(q1 * price_cents(p1) + CASE WHEN n >= 2 THEN q2 * price_cents(p2) ELSE 0 END
                                 + CASE WHEN n >= 3 THEN q3 * price_cents(p3) ELSE 0 END)::DECIMAL(12,2) AS total,
      status, created_at, updated_at
    FROM ord2 ORDER BY order_id`, `${W}/orders/orders.parquet`, opt['row-group-size']);
  const ef = Math.max(1, Math.floor(opt['event-files']));
  for (let f = 0; f < ef; f++) {
    const lo = Math.floor(E * f / ef), hi = Math.floor(E * (f + 1) / ef);
    await copy(`SELECT e.event_id, e.user_id, e.event_type, e.event_time, e.product_id, o.order_id, e.data
      FROM ev e LEFT JOIN ord o ON o.event_id = e.event_id
      WHERE e.event_id >= ${lo} AND e.event_id < ${hi} ORDER BY e.event_id`,
    `${W}/events/events-${String(f).padStart(3, '0')}.parquet`, opt['row-group-size']);
  }
  await con.run('DROP TABLE ev; DROP TABLE ord; DROP TABLE ord2');
}
con.closeSync();
inst.closeSync();
log(`done: ${out}`);
