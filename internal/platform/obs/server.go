package obs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// ServerConfig configures the operations server of a long-running command.
type ServerConfig struct {
	// Addr is HOST:PORT to listen on (port 0 picks a free one). Required.
	Addr string
	// Ready answers /readyz: nil means ready. It should check what the
	// command needs to do its work (Kafka, ClickHouse). Default: always
	// ready.
	Ready func(ctx context.Context) error
	// ReadyTimeout bounds one Ready call. Default 3s.
	ReadyTimeout time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Validate reports every problem, each naming the field.
func (c ServerConfig) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("metrics address %q: want HOST:PORT, e.g. 0.0.0.0:9100 (--metrics-addr, PHONESIGNALS_METRICS_ADDR)", c.Addr))
	}
	if c.ReadyTimeout < 0 {
		errs = append(errs, fmt.Errorf("ReadyTimeout %v: negative", c.ReadyTimeout))
	}
	return errors.Join(errs...)
}

// Server serves /metrics (Prometheus), /healthz (the process is up) and
// /readyz (its dependencies answer).
type Server struct {
	cfg ServerConfig
	ln  net.Listener
	srv *http.Server
}

// NewServer validates cfg and binds the address, so a port in use fails
// the command at start rather than later.
func NewServer(cfg ServerConfig) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = 3 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("metrics address %s: %w", cfg.Addr, err)
	}
	s := &Server{cfg: cfg, ln: ln}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn)}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", s.readyz)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	return s, nil
}

// Addr is the address listened on (with the picked port).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Run serves until ctx is done, then shuts down.
func (s *Server) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	s.cfg.Logger.Info("serving /metrics, /healthz and /readyz", "addr", s.Addr())
	select {
	case err := <-errc:
		return fmt.Errorf("metrics server on %s: %w", s.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return s.srv.Shutdown(sctx)
}

// Close stops serving at once.
func (s *Server) Close() error { return s.srv.Close() }

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.ReadyTimeout)
		defer cancel()
		if err := s.cfg.Ready(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "not ready: "+err.Error()+"\n")
			return
		}
	}
	io.WriteString(w, "ready\n")
}

// Check GETs url and returns nil on a 2xx answer: the health check of an
// image without curl or a shell (`phonesignals healthcheck URL`).
func Check(ctx context.Context, url string) error {
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return fmt.Errorf("health check URL %q: want http://HOST:PORT/PATH, e.g. http://127.0.0.1:9100/readyz", url)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("health check %s: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("health check %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("health check %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// NewLogHandler is the handler --log-format selects: "text" (key=value,
// for people) or "json" (one object per line, for log collectors). Both
// write a time.Duration as Go's duration string ("641.009406ms"): the
// JSON handler alone would write the integer nanosecond count, which
// reads as a plain number and differs from the text logs.
func NewLogHandler(w io.Writer, format string, level slog.Leveler) (slog.Handler, error) {
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(format) {
	case "", "text":
		return slog.NewTextHandler(w, opts), nil
	case "json":
		opts.ReplaceAttr = durationString
		return slog.NewJSONHandler(w, opts), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// durationString is the JSON handler's ReplaceAttr: a duration attribute,
// in a group or not, becomes its String() form.
func durationString(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.StringValue(a.Value.Duration().String())
	}
	return a
}
