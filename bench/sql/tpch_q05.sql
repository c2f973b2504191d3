-- TPC-H Q5: local supplier volume (same text as tests/sql/tpch.test)
SELECT
    n_name,
    sum(l_extendedprice * (1 - l_discount)) AS revenue
FROM
    read_parquet('${DATA}/tpch/customer/*.parquet') AS customer,
    read_parquet('${DATA}/tpch/orders/*.parquet') AS orders,
    read_parquet('${DATA}/tpch/lineitem/*.parquet') AS lineitem,
    read_parquet('${DATA}/tpch/supplier/*.parquet') AS supplier,
    read_parquet('${DATA}/tpch/nation/*.parquet') AS nation,
    read_parquet('${DATA}/tpch/region/*.parquet') AS region
WHERE
    c_custkey = o_custkey
    AND l_orderkey = o_orderkey
    AND l_suppkey = s_suppkey
    AND c_nationkey = s_nationkey
    AND s_nationkey = n_nationkey
    AND n_regionkey = r_regionkey
    AND r_name = 'ASIA'
    AND o_orderdate >= DATE '1994-01-01'
    AND o_orderdate < DATE '1994-01-01' + INTERVAL '1 year'
GROUP BY
    n_name
ORDER BY
    revenue DESC
