SET delta.write.txnAppId = 'a'; SET spark.databricks.delta.write.txnVersion = 3; INSERT INTO t VALUES (1)
