-- Reference workload: daily revenue.
SELECT CAST(created_at AS date) AS day, count(*) AS orders, sum(total) AS revenue
FROM read_parquet('${DATA}/workload/orders/*.parquet')
WHERE status <> 'cancelled'
GROUP BY CAST(created_at AS date)
ORDER BY day
