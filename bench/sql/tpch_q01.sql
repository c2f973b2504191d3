-- TPC-H Q1: pricing summary report (same text as tests/sql/tpch.test)
SELECT
    l_returnflag,
    l_linestatus,
    sum(l_quantity) AS sum_qty,
    sum(l_extendedprice) AS sum_base_price,
    sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price,
    sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge,
    avg(l_quantity)::double precision AS avg_qty,
    avg(l_extendedprice)::double precision AS avg_price,
    avg(l_discount)::double precision AS avg_disc,
    count(*) AS count_order
FROM
    read_parquet('${DATA}/tpch/lineitem/*.parquet') AS lineitem
WHERE
    l_shipdate <= DATE '1998-12-01' - INTERVAL '90 days'
GROUP BY
    l_returnflag,
    l_linestatus
ORDER BY
    l_returnflag,
    l_linestatus
