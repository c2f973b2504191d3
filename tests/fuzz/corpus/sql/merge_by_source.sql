MERGE INTO t USING (VALUES (1::bigint, 'x'::text)) AS s(id, v) ON t.id = s.id
WHEN MATCHED AND s.v = 'when not matched by source' THEN DELETE
WHEN MATCHED THEN UPDATE SET v = s.v
WHEN NOT MATCHED BY TARGET THEN INSERT VALUES (s.id, s.v)
WHEN NOT MATCHED /* by source */ BY SOURCE AND t.id > 3 THEN DELETE;
