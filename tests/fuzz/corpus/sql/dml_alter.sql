UPDATE t SET a = a + 1, b = DEFAULT FROM u WHERE t.id = u.id; DELETE FROM t USING u WHERE t.id = u.id;
ALTER TABLE t ADD COLUMN c text, DROP COLUMN IF EXISTS d, SET ("delta.appendOnly" = 'true');
ALTER TABLE t RENAME COLUMN a TO "when not matched by source";
