package chserver

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"text/template"
)

// layout is where a server in dir keeps each of its files.
type layout struct {
	Dir       string
	Config    string
	Users     string
	Data      string
	Tmp       string
	UserFiles string
	Schemas   string
	LogDir    string
	Log       string
	ErrorLog  string
	Stdio     string
	State     string
	Lock      string
	Ports     string
	Password  string // the file holding it, for Ensure's servers
	// PasswordSHA256 is the hex SHA-256 of user default's password, ""
	// for no password.
	PasswordSHA256 string
	TCPPort        int
	HTTPPort       int
	// SecurePort, CertFile and KeyFile serve TLS when SecurePort is set.
	SecurePort int
	CertFile   string
	KeyFile    string
	ExtraUsers []userEntry
	// Analyst is the analyst user (SHA256 of its password, Database the
	// one it may read) and DefaultPassword user default's plain password,
	// which the cluster phonesignals_self logs in with; nil for none.
	Analyst         *analystEntry
	DefaultPassword string
	MaxMemory       int64
	SortSpill       int64
	GroupSpill      int64
}

func newLayout(dir string) layout {
	return layout{
		Dir:       dir,
		Config:    filepath.Join(dir, "config.xml"),
		Users:     filepath.Join(dir, "users.xml"),
		Data:      filepath.Join(dir, "data") + "/",
		Tmp:       filepath.Join(dir, "tmp") + "/",
		UserFiles: filepath.Join(dir, "user_files") + "/",
		Schemas:   filepath.Join(dir, "format_schemas") + "/",
		LogDir:    filepath.Join(dir, "log"),
		Log:       filepath.Join(dir, "log", "clickhouse-server.log"),
		ErrorLog:  filepath.Join(dir, "log", "clickhouse-server.err.log"),
		Stdio:     filepath.Join(dir, "log", "stdout-stderr.log"),
		State:     filepath.Join(dir, stateFile),
		Lock:      filepath.Join(dir, ".ensure.lock"),
		Ports:     filepath.Join(dir, portsFile),
		Password:  filepath.Join(dir, passwordFile),
	}
}

// The server config. 18.16 wants the root element <yandex> and paths that
// end in a slash. No interserver port, ZooKeeper or query_log: a single
// loopback server needs none of them. Cache sizes are far below the Debian
// defaults (8 GiB uncompressed, 5 GiB marks) because several servers may run
// on one 24 GiB machine next to the tests.
var configTmpl = template.Must(template.New("config.xml").Funcs(template.FuncMap{"x": xmlText}).Parse(`<?xml version="1.0"?>
<!-- Written by phonesignals internal/localserver/chserver; rewritten on every start. -->
<yandex>
    <logger>
        <level>information</level>
        <log>{{x .Log}}</log>
        <errorlog>{{x .ErrorLog}}</errorlog>
        <size>50M</size>
        <count>3</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <tcp_port>{{.TCPPort}}</tcp_port>
    <http_port>{{.HTTPPort}}</http_port>
{{- if .SecurePort}}
    <tcp_port_secure>{{.SecurePort}}</tcp_port_secure>
    <openSSL>
        <server>
            <certificateFile>{{x .CertFile}}</certificateFile>
            <privateKeyFile>{{x .KeyFile}}</privateKeyFile>
            <verificationMode>none</verificationMode>
            <loadDefaultCAFile>false</loadDefaultCAFile>
            <cacheSessions>true</cacheSessions>
            <disableProtocols>sslv2,sslv3</disableProtocols>
            <preferServerCiphers>true</preferServerCiphers>
        </server>
    </openSSL>
{{- end}}
    <max_connections>256</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>64</max_concurrent_queries>
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <mark_cache_size>268435456</mark_cache_size>
    <path>{{x .Data}}</path>
    <tmp_path>{{x .Tmp}}</tmp_path>
    <user_files_path>{{x .UserFiles}}</user_files_path>
    <format_schema_path>{{x .Schemas}}</format_schema_path>
    <users_config>{{x .Users}}</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
    <builtin_dictionaries_reload_interval>3600</builtin_dictionaries_reload_interval>
    <max_session_timeout>3600</max_session_timeout>
    <default_session_timeout>60</default_session_timeout>
{{- if .Analyst}}
    <!-- The analyst database's Distributed tables read the phonesignals
         views through this cluster, as user default, so user analyst
         needs no access to the phonesignals database. -->
    <remote_servers>
        <phonesignals_self>
            <shard>
                <replica>
                    <host>127.0.0.1</host>
                    <port>{{.TCPPort}}</port>
                    <user>default</user>
                    <password>{{x .DefaultPassword}}</password>
                </replica>
            </shard>
        </phonesignals_self>
    </remote_servers>
{{- end}}
</yandex>
`))

// The users config: user default, with the password whose SHA-256 is in
// PasswordSHA256 (none when empty), reachable from loopback only. allow_experimental_low_cardinality_type must be a profile setting:
// 18.16 needs it for LowCardinality columns and current versions reject it
// in SQL, so the project's SQL never names it.
var usersTmpl = template.Must(template.New("users.xml").Parse(`<?xml version="1.0"?>
<!-- Written by phonesignals internal/localserver/chserver; rewritten on every start. -->
<yandex>
    <profiles>
        <default>
            <allow_experimental_low_cardinality_type>1</allow_experimental_low_cardinality_type>
            <max_memory_usage>{{.MaxMemory}}</max_memory_usage>
            <max_bytes_before_external_sort>{{.SortSpill}}</max_bytes_before_external_sort>
            <max_bytes_before_external_group_by>{{.GroupSpill}}</max_bytes_before_external_group_by>
            <use_uncompressed_cache>0</use_uncompressed_cache>
            <load_balancing>random</load_balancing>
        </default>
{{- if .Analyst}}
        <!-- readonly: SELECT only, no settings changed, no table functions.
             prefer_localhost_replica 0: the Distributed tables query the
             server over loopback as default, never in the analyst's own
             context, which allow_databases keeps off phonesignals. -->
        <analyst>
            <readonly>1</readonly>
            <prefer_localhost_replica>0</prefer_localhost_replica>
            <allow_experimental_low_cardinality_type>1</allow_experimental_low_cardinality_type>
            <max_memory_usage>{{.MaxMemory}}</max_memory_usage>
        </analyst>
{{- end}}
    </profiles>
    <users>
        <default>
            {{if .PasswordSHA256}}<password_sha256_hex>{{.PasswordSHA256}}</password_sha256_hex>{{else}}<password></password>{{end}}
            <networks>
                <ip>127.0.0.1</ip>
                <ip>::1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
{{- range .ExtraUsers}}
        <{{.Name}}>
            <password_sha256_hex>{{.SHA256}}</password_sha256_hex>
            <networks>
                <ip>127.0.0.1</ip>
                <ip>::1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </{{.Name}}>
{{- end}}
{{- with .Analyst}}
        <analyst>
            <password_sha256_hex>{{.SHA256}}</password_sha256_hex>
            <networks>
                <ip>127.0.0.1</ip>
                <ip>::1</ip>
            </networks>
            <profile>analyst</profile>
            <quota>default</quota>
            <allow_databases>
                <database>{{.Database}}</database>
            </allow_databases>
        </analyst>
{{- end}}
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
`))

// analystEntry is an Analyst as users.xml holds it.
type analystEntry struct{ SHA256, Database string }

// analystEntryOf returns a's users.xml entry, nil for no analyst.
func analystEntryOf(a *Analyst) *analystEntry {
	if a == nil {
		return nil
	}
	h := sha256.Sum256([]byte(a.Password))
	return &analystEntry{SHA256: hex.EncodeToString(h[:]), Database: a.Database}
}

// userEntry is a User as users.xml holds it.
type userEntry struct{ Name, SHA256 string }

func userEntries(us []User) []userEntry {
	out := make([]userEntry, len(us))
	for i, u := range us {
		h := sha256.Sum256([]byte(u.Password))
		out[i] = userEntry{Name: u.Name, SHA256: hex.EncodeToString(h[:])}
	}
	return out
}

func xmlText(s string) (string, error) {
	var b bytes.Buffer
	if err := xml.EscapeText(&b, []byte(s)); err != nil {
		return "", err
	}
	return b.String(), nil
}

// writeConfig creates l's directories and writes config.xml and users.xml
// for the ports in l.
func writeConfig(l layout) error {
	// Owner only: the data holds every org's rows, employee emails among
	// them. Chmod too, for directories an older version made 0755.
	for _, d := range []string{l.Dir, l.Data, l.Tmp, l.UserFiles, l.Schemas, l.LogDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("creating %s: %w", d, err)
		}
		if err := os.Chmod(d, 0o700); err != nil {
			return fmt.Errorf("restricting %s to its owner: %w", d, err)
		}
	}
	// 4 GiB per query, spilling sorts and GROUP BYs to disk from 2 GiB: the
	// machine has 24 GiB and the tests run beside the server.
	l.MaxMemory = 4 << 30
	l.SortSpill = 2 << 30
	l.GroupSpill = 2 << 30
	for _, f := range []struct {
		path string
		tmpl *template.Template
	}{{l.Config, configTmpl}, {l.Users, usersTmpl}} {
		var b bytes.Buffer
		if err := f.tmpl.Execute(&b, l); err != nil {
			return fmt.Errorf("rendering %s: %w", f.path, err)
		}
		if err := writeFileAtomic(f.path, b.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// writeFileAtomic writes through a temporary file and a rename, so a
// reader (a server reloading its config, Ensure reading server.json) never
// sees half a file.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
