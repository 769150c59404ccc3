package chserver

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// clientConfigFile, in Config.Dir, is the clickhouse-client configuration
// (mode 0600) that connects a person to the server as user default.
const clientConfigFile = "client.xml"

// Client is what clickhouse-client needs to connect: the native
// protocol's host and port, the user and its password.
type Client struct {
	Host     string
	Port     int
	User     string
	Password string
}

// ClientFor is the Client of the native protocol address addr (HOST:PORT).
func ClientFor(addr, user, password string) (Client, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return Client{}, fmt.Errorf("clickhouse address %q: %w", addr, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return Client{}, fmt.Errorf("clickhouse address %q: bad port", addr)
	}
	if user == "" {
		user = "default"
	}
	return Client{Host: host, Port: p, User: user, Password: password}, nil
}

// WriteConfig writes c as a clickhouse-client configuration file at path
// (mode 0600, written atomically; the directory is created owner-only
// when missing). clickhouse-client --config-file PATH then connects
// without the password on its command line, where every user of the
// machine can read it (/proc/PID/cmdline, ps). ClickHouse 18.16's client
// reads these <host>, <port>, <user> and <password> tags, as current ones
// do.
func (c Client) WriteConfig(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	var b bytes.Buffer
	b.WriteString("<?xml version=\"1.0\"?>\n<!-- written by phonesignals; readable by its owner only -->\n<config>\n")
	for _, f := range [][2]string{{"host", c.Host}, {"port", strconv.Itoa(c.Port)}, {"user", c.User}, {"password", c.Password}} {
		b.WriteString("    <" + f[0] + ">")
		if err := xml.EscapeText(&b, []byte(f[1])); err != nil {
			return err
		}
		b.WriteString("</" + f[0] + ">\n")
	}
	b.WriteString("</config>\n")
	return writeFileAtomic(path, b.Bytes())
}

// ConnectCommand is the clickhouse-client command line that connects with
// the configuration file at path to database: no password in it.
func ConnectCommand(path, database string) string {
	cmd := "clickhouse-client --config-file " + path
	if database != "" {
		cmd += " -d " + database
	}
	return cmd
}

// WriteClientConfig writes the clickhouse-client configuration of this
// server (127.0.0.1, its native port, user default and its password) to
// Dir/client.xml, mode 0600, and returns its path. The ports of a server
// can change at a restart: write it again whenever it is shown.
func (s *Server) WriteClientConfig() (string, error) {
	path := filepath.Join(s.layout.Dir, clientConfigFile)
	c := Client{Host: "127.0.0.1", Port: s.TCPPort(), User: s.User(), Password: s.password}
	return path, c.WriteConfig(path)
}

// analystClientConfigFile, in Config.Dir, is the clickhouse-client
// configuration (mode 0600) that connects as the read-only analyst user.
const analystClientConfigFile = "analyst-client.xml"

// WriteAnalystClientConfig writes the clickhouse-client configuration of
// the analyst user of this Ensure server (Config.AnalystDatabase) to
// Dir/analyst-client.xml, mode 0600, and returns its path.
func (s *Server) WriteAnalystClientConfig() (string, error) {
	pw, err := os.ReadFile(filepath.Join(s.layout.Dir, analystPasswordFile))
	if err != nil {
		return "", fmt.Errorf("the local server has no analyst user (run phonesignals migrate): %w", err)
	}
	path := filepath.Join(s.layout.Dir, analystClientConfigFile)
	c := Client{Host: "127.0.0.1", Port: s.TCPPort(), User: "analyst", Password: strings.TrimSpace(string(pw))}
	return path, c.WriteConfig(path)
}

// ConnectHint says how a person connects to this server with
// clickhouse-client, writing the configuration file it names first: the
// password stays in owner-only files, never on a command line.
func (s *Server) ConnectHint(database string) (string, error) {
	if s.password == "" {
		return fmt.Sprintf("connect: clickhouse-client --port %d -d %s", s.TCPPort(), database), nil
	}
	path, err := s.WriteClientConfig()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("connect: %s\n(%s holds the address, user and password, readable by its owner only; phonesignals commands use the password by themselves)",
		ConnectCommand(path, database), path), nil
}
