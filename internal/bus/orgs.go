package bus

import (
	"github.com/twmb/franz-go/pkg/kgo"
)

// TopicOrgs is the compacted topic of `phonesignals serve`'s org
// ownership: one record per org, keyed by the org name, in OrgPartitions
// partitions. Its records only document which orgs exist; what matters
// is the partition an org hashes to: the consumer group GroupServe
// assigns the partitions to the serve replicas, and the replica assigned
// an org's partition follows that org.
const TopicOrgs = "phonesignals.orgs"

// GroupServe is the consumer group of the `phonesignals serve` replicas.
const GroupServe = "phonesignals.serve"

// OrgPartitions is how many partitions TopicOrgs has: the most serve
// replicas that can share the orgs (a replica past it owns nothing and
// stands by), and the granularity orgs move in.
const OrgPartitions = 24

// orgPartitioner is Kafka's own key partitioner (murmur2 of the key, the
// sign bit masked, modulo the partitions), as franz-go implements it
// for the Java client's compatibility.
var orgPartitioner = kgo.StickyKeyPartitioner(nil).ForTopic(TopicOrgs)

// OrgPartition is the partition of TopicOrgs that org's record goes to,
// hence the partition whose owner follows org. The producer of TopicOrgs
// sets it explicitly (kgo.ManualPartitioner), so producer and owners
// agree whatever partitioner a client defaults to.
func OrgPartition(org string, partitions int) int32 {
	return int32(orgPartitioner.Partition(&kgo.Record{Key: []byte(org)}, partitions))
}
