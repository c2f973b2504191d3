-- TPC-H Q6: forecasting revenue change (same text as tests/sql/tpch.test)
SELECT
    sum(l_extendedprice * l_discount) AS revenue
FROM
    read_parquet('${DATA}/tpch/lineitem/*.parquet') AS lineitem
WHERE
    l_shipdate >= DATE '1994-01-01'
    AND l_shipdate < DATE '1994-01-01' + INTERVAL '1 year'
    AND l_discount BETWEEN 0.06 - 0.01 AND 0.06 + 0.01
    AND l_quantity < 24
