-- Events per hour and type over the last day (pruning keeps about a seventh of the row groups).
SELECT date_trunc('hour', event_time) AS hour, event_type, count(*) AS n
FROM read_parquet('${DATA}/workload/events/*.parquet')
WHERE event_time >= TIMESTAMP WITH TIME ZONE '2024-03-31 00:00:00+00'
GROUP BY 1, 2
ORDER BY 1, 2
