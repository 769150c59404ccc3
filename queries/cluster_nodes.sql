-- The nodes of a remote_servers cluster, shard by shard: the store sends
-- an org's reads to its shard's replicas (internal/store, route.go), in
-- the order the Distributed tables pick them (load_balancing in_order).
SELECT shard_num, shard_weight, replica_num, host_address, port
FROM system.clusters
WHERE cluster = @cluster
ORDER BY shard_num, replica_num
