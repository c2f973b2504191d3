-- Full scan and aggregation of the events: counts and distinct users per event type.
SELECT event_type, count(*) AS n, count(order_id) AS with_order, count(DISTINCT user_id) AS users
FROM read_parquet('${DATA}/workload/events/*.parquet')
GROUP BY event_type
ORDER BY event_type
