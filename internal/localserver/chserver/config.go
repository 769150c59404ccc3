package chserver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// DefaultStartTimeout is how long Start waits for /ping to answer: the
// server is ready in under a second here, so 30 s only trips on a server
// that will never come up.
const DefaultStartTimeout = 30 * time.Second

// InstallCommand is the fix named when clickhouse-server is missing.
const InstallCommand = "apt-get update && apt-get install -y clickhouse-server clickhouse-client"

// Config says where and how to run a server.
type Config struct {
	// Dir holds everything the server writes (config, data, logs,
	// server.json), so servers never touch /etc or /var/lib/clickhouse and
	// several can run side by side. Required; created if missing.
	Dir string
	// TCPPort is the native protocol port (clickhouse-go, clickhouse-client);
	// 0 picks a free port, so parallel test binaries never collide.
	TCPPort int
	// HTTPPort is the HTTP port, used for /ping and Server.Query; 0 picks a
	// free port.
	HTTPPort int
	// Binary is the clickhouse-server executable; empty looks it up on
	// PATH, then in /usr/sbin and /usr/bin (where Debian puts it, often
	// outside a non-root PATH).
	Binary string
	// Install, when the binary is missing and the process runs as root,
	// installs Debian's clickhouse-server and clickhouse-client with
	// apt-get, so a fresh machine can run the demo in one step.
	Install bool
	// Password of user default; empty for none (test servers). Ensure
	// sets it from Dir/password, generating one at the first start.
	Password string
	// StartTimeout bounds the wait for the server to answer /ping;
	// 0 means DefaultStartTimeout.
	StartTimeout time.Duration
	// TLS, when set, also serves the native protocol over TLS on a free
	// port (Server.SecureAddr), as ClickHouse Cloud does on 9440. Default nil.
	TLS *TLS
	// Users are extra users with a password, beside the password-less
	// `default`, for tests of authenticated connections. Default none.
	Users []User
	// Analyst, when set, adds the read-only user `analyst`, limited to
	// the analyst database, and the loopback cluster phonesignals_self
	// that database's tables read through (queries/analyst/local_table.sql
	// says why 18.16 needs it). Default nil: no analyst user.
	Analyst *Analyst
	// AnalystDatabase, for Ensure only, gives the server the analyst user
	// limited to this database, with a password generated at the first
	// start into Dir/analyst.password (mode 0600); a running server whose
	// users.xml lacks it is restarted once to add it. Default "": no
	// analyst (unless Analyst is set).
	AnalystDatabase string
}

// Analyst is the read-only analyst user of the local server.
type Analyst struct {
	// Password of user analyst (stored hashed in users.xml). Required.
	Password string
	// Database is the one database user analyst may read, the one holding
	// the analyst objects (queries.AnalystObjects). Required.
	Database string
}

// TLS is the server side of the secure native port.
type TLS struct {
	// CertFile and KeyFile are PEM files of the server's certificate
	// (chain) and private key. Required.
	CertFile, KeyFile string
}

// User is a ClickHouse user reachable from loopback.
type User struct {
	// Name is the user name; Password its plain-text password (stored
	// hashed in users.xml).
	Name, Password string
}

// Validate reports every problem with c at once, each naming its field, so
// a misconfigured CLI flag set is fixed in one round.
func (c Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.Dir) == "" {
		errs = append(errs, errors.New("chserver.Config.Dir: required (the directory for the server's config, data and logs)"))
	}
	for _, p := range []struct {
		name string
		port int
	}{{"TCPPort", c.TCPPort}, {"HTTPPort", c.HTTPPort}} {
		if p.port < 0 || p.port > 65535 {
			errs = append(errs, fmt.Errorf("chserver.Config.%s: %d is not a port (0 to 65535; 0 picks a free one)", p.name, p.port))
		}
	}
	if c.TCPPort != 0 && c.TCPPort == c.HTTPPort {
		errs = append(errs, fmt.Errorf("chserver.Config.HTTPPort: %d is also TCPPort; the server needs two different ports", c.HTTPPort))
	}
	if c.Binary != "" && strings.TrimSpace(c.Binary) != c.Binary {
		errs = append(errs, fmt.Errorf("chserver.Config.Binary: %q has leading or trailing spaces", c.Binary))
	}
	if c.TLS != nil && (c.TLS.CertFile == "" || c.TLS.KeyFile == "") {
		errs = append(errs, errors.New("chserver.Config.TLS: CertFile and KeyFile are both required"))
	}
	for _, u := range c.Users {
		if !userRe.MatchString(u.Name) || u.Name == "default" {
			errs = append(errs, fmt.Errorf("chserver.Config.Users: name %q: want letters, digits and _, not default", u.Name))
		}
	}
	errs = append(errs, c.validateAnalyst()...)
	if c.StartTimeout < 0 {
		errs = append(errs, fmt.Errorf("chserver.Config.StartTimeout: %v is negative", c.StartTimeout))
	}
	return errors.Join(errs...)
}

// validateAnalyst checks Analyst and AnalystDatabase.
func (c Config) validateAnalyst() []error {
	var errs []error
	if a := c.Analyst; a != nil && (a.Password == "" || !userRe.MatchString(a.Database)) {
		errs = append(errs, fmt.Errorf("chserver.Config.Analyst: want a password and a database name of letters, digits and _, got database %q", a.Database))
	}
	if c.AnalystDatabase != "" && !userRe.MatchString(c.AnalystDatabase) {
		errs = append(errs, fmt.Errorf("chserver.Config.AnalystDatabase: %q: want letters, digits and _", c.AnalystDatabase))
	}
	return errs
}

var userRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (c Config) startTimeout() time.Duration {
	if c.StartTimeout > 0 {
		return c.StartTimeout
	}
	return DefaultStartTimeout
}

// Seams for tests: where binaries are searched for and who we run as.
var (
	lookPath     = exec.LookPath
	wellKnownDir = []string{"/usr/sbin", "/usr/bin"}
	geteuid      = os.Geteuid
	runInstall   = aptInstall
)

// ErrBinaryNotFound is wrapped by Start's error when clickhouse-server is
// not installed, so callers can tell "install it" from other failures.
var ErrBinaryNotFound = errors.New("clickhouse-server not found")

// binary returns the clickhouse-server executable c would run, installing
// it first when c.Install is set, the process is root and it is missing.
func (c Config) binary(ctx context.Context) (string, error) {
	if c.Binary != "" {
		if err := executable(c.Binary); err != nil {
			return "", fmt.Errorf("chserver.Config.Binary %s: %w", c.Binary, err)
		}
		return c.Binary, nil
	}
	if p, err := findBinary(); err == nil {
		return p, nil
	}
	if !c.Install {
		return "", fmt.Errorf("%w on PATH or in %s: install it (as root: %s), or set chserver.Config.Binary", ErrBinaryNotFound, strings.Join(wellKnownDir, ", "), InstallCommand)
	}
	if geteuid() != 0 {
		return "", fmt.Errorf("%w, and installing it needs root: run `sudo sh -c '%s'`", ErrBinaryNotFound, InstallCommand)
	}
	if err := runInstall(ctx); err != nil {
		return "", fmt.Errorf("installing clickhouse-server: %w", err)
	}
	p, err := findBinary()
	if err != nil {
		return "", fmt.Errorf("%w even after `%s`", ErrBinaryNotFound, InstallCommand)
	}
	return p, nil
}

func findBinary() (string, error) {
	if p, err := lookPath("clickhouse-server"); err == nil {
		return p, nil
	}
	for _, d := range wellKnownDir {
		p := filepath.Join(d, "clickhouse-server")
		if executable(p) == nil {
			return p, nil
		}
	}
	return "", ErrBinaryNotFound
}

func executable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", p)
	}
	return nil
}

// aptInstall installs Debian's packages. The packages' own service start
// fails in containers without systemd; that does not fail the install.
func aptInstall(ctx context.Context) error {
	for _, args := range [][]string{
		{"update"},
		{"install", "-y", "--no-install-recommends", "clickhouse-server", "clickhouse-client"},
	} {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("apt-get %s: %w: %s", strings.Join(args, " "), err, tail(string(out), 20))
		}
	}
	return nil
}

// tail returns the last n lines of s, for error messages that quote logs.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
