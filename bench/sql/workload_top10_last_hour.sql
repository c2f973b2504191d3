-- Reference workload: top 10 products sold in the last hour (events x orders x products).
-- The data's "now" is 2024-04-01 00:00:00 UTC; events are sorted by event_time, so statistics
-- prune all but the last hour's row groups.
SELECT p.product_id, p.name, p.category, count(*) AS orders, sum(o.total) AS revenue
FROM read_parquet('${DATA}/workload/events/*.parquet') e
JOIN read_parquet('${DATA}/workload/orders/*.parquet') o ON o.order_id = e.order_id
JOIN read_parquet('${DATA}/workload/products/*.parquet') p ON p.product_id = e.product_id
WHERE e.event_type = 'purchase'
  AND e.event_time >= TIMESTAMP WITH TIME ZONE '2024-04-01 00:00:00+00' - INTERVAL '1 hour'
  AND e.event_time < TIMESTAMP WITH TIME ZONE '2024-04-01 00:00:00+00'
  AND o.status <> 'cancelled'
GROUP BY p.product_id, p.name, p.category
ORDER BY orders DESC, revenue DESC, p.product_id
LIMIT 10
