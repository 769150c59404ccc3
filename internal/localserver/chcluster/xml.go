package chcluster

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// zooCfg is ZooKeeper's config: loopback only, sessions as short as the
// servers ask for, and srvr allowed (readiness waits for "Mode:
// standalone", not ruok, which answers before sessions are accepted).
func zooCfg(dataDir string, port int) string {
	return fmt.Sprintf(`tickTime=1000
initLimit=10
syncLimit=5
dataDir=%s
clientPortAddress=127.0.0.1
clientPort=%d
maxClientCnxns=0
minSessionTimeout=2000
maxSessionTimeout=30000
admin.enableServer=false
4lw.commands.whitelist=ruok,stat,mntr,srvr,conf,cons
`, dataDir, port)
}

// usersXML sets distributed_product_mode = local, which a phonesignals
// cluster store needs: its IN and JOIN subqueries match on org, and one
// org's rows sit on one shard, so each shard joins its own rows.
const usersXML = `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2147483648</max_memory_usage><load_balancing>in_order</load_balancing><distributed_product_mode>local</distributed_product_mode></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
`

// remoteServers renders the clusters Name (replicated shards) and AllName
// (one node per shard). Hosts are 127.0.0.1, not localhost, which may
// resolve to ::1 where nothing listens.
func (c *Cluster) remoteServers() string {
	var b strings.Builder
	b.WriteString("<remote_servers><" + Name + ">")
	for s := 0; s < c.cfg.Shards; s++ {
		b.WriteString("<shard><internal_replication>true</internal_replication>")
		for _, n := range c.nodes[s*c.cfg.Replicas : (s+1)*c.cfg.Replicas] {
			fmt.Fprintf(&b, "<replica><host>127.0.0.1</host><port>%d</port></replica>", n.TCPPort)
		}
		b.WriteString("</shard>")
	}
	b.WriteString("</" + Name + "><" + AllName + ">")
	for _, n := range c.nodes {
		fmt.Fprintf(&b, "<shard><replica><host>127.0.0.1</host><port>%d</port></replica></shard>", n.TCPPort)
	}
	b.WriteString("</" + AllName + "></remote_servers>")
	return b.String()
}

func (c *Cluster) nodeXML(n *Node) string {
	d := n.Dir
	return fmt.Sprintf(`<?xml version="1.0"?>
<yandex>
    <logger><level>information</level><log>%[1]s/log/server.log</log><errorlog>%[1]s/log/server.err.log</errorlog><size>50M</size><count>2</count></logger>
    <listen_host>127.0.0.1</listen_host>
    <tcp_port>%[2]d</tcp_port>
    <http_port>%[3]d</http_port>
    <interserver_http_port>%[4]d</interserver_http_port>
    <interserver_http_host>127.0.0.1</interserver_http_host>
    <path>%[1]s/data/</path>
    <tmp_path>%[1]s/tmp/</tmp_path>
    <user_files_path>%[1]s/user_files/</user_files_path>
    <format_schema_path>%[1]s/format_schemas/</format_schema_path>
    <users_config>%[5]s</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
    <uncompressed_cache_size>67108864</uncompressed_cache_size>
    <mark_cache_size>67108864</mark_cache_size>
    <shutdown_wait_unfinished>1</shutdown_wait_unfinished>
    <zookeeper>
        <node index="1"><host>127.0.0.1</host><port>%[6]d</port></node>
        <session_timeout_ms>%[7]d</session_timeout_ms>
    </zookeeper>
    <macros><shard>%02[8]d</shard><replica>r%[9]d</replica></macros>
    %[10]s
    <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>
    <!-- with log_queries=1, tests read which node ran a query -->
    <query_log><database>system</database><table>query_log</table><flush_interval_milliseconds>1000</flush_interval_milliseconds></query_log>
</yandex>
`, d, n.TCPPort, n.HTTPPort, n.interPort, filepath.Join(c.cfg.Dir, "users.xml"), c.zkPort,
		c.cfg.SessionTimeout.Milliseconds(), n.Shard, n.Replica, c.remoteServers())
}

func (c *Cluster) writeConfigs() error {
	if err := os.MkdirAll(filepath.Join(c.cfg.Dir, "zk", "data"), 0o700); err != nil {
		return fmt.Errorf("creating the ZooKeeper directory: %w", err)
	}
	if err := os.WriteFile(c.zkConfig(), []byte(zooCfg(filepath.Join(c.cfg.Dir, "zk", "data"), c.zkPort)), 0o600); err != nil {
		return fmt.Errorf("writing zoo.cfg: %w", err)
	}
	if err := os.WriteFile(filepath.Join(c.cfg.Dir, "users.xml"), []byte(usersXML), 0o600); err != nil {
		return fmt.Errorf("writing users.xml: %w", err)
	}
	for _, n := range c.nodes {
		for _, sub := range []string{"log", "data", "tmp", "user_files", "format_schemas"} {
			if err := os.MkdirAll(filepath.Join(n.Dir, sub), 0o700); err != nil {
				return fmt.Errorf("creating node %s's directories: %w", n.Name(), err)
			}
		}
		if err := os.WriteFile(n.config(), []byte(c.nodeXML(n)), 0o600); err != nil {
			return fmt.Errorf("writing node %s's config: %w", n.Name(), err)
		}
	}
	return nil
}
