-- Reference workload: incremental read, the orders changed after a point in time.
SELECT order_id, user_id, total, status, created_at, updated_at
FROM read_parquet('${DATA}/workload/orders/*.parquet')
WHERE updated_at > TIMESTAMP WITH TIME ZONE '2024-04-02 12:00:00+00'
ORDER BY updated_at, order_id
