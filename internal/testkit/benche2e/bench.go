package benche2e

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/localserver/chserver"
	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/internal/testkit/callgen"
)

// Config configures one benchmark run.
type Config struct {
	// Bin is the phonesignals binary measured. Required.
	Bin string
	// BaselineBin, when set, is measured too, alternating with Bin on the
	// same published records, and the figures are printed as ratios.
	BaselineBin string
	// Calls is how many calls are published. Default 1,000,000.
	Calls int
	// Orgs the calls are spread over. Default 20.
	Orgs int
	// Runs of each binary. Default 1.
	Runs int
	// Seed of the generator. Default 1.
	Seed uint64
	// Dir holds the ClickHouse server and profiles; default a temporary
	// directory removed afterwards.
	Dir string
	// CPUProfile, when set, is where the measured binary's last run writes
	// its CPU profile (through PHONESIGNALS_CPU_PROFILE).
	CPUProfile string
	// Out receives the report. Default os.Stdout.
	Out io.Writer
	// Instances lists how many `run --until-idle` processes share the
	// consumer group in each measurement, all measured over the same
	// records in every run; default [1]. With more than one count, the
	// report ends with each count's CPU per call against the first
	// (`make bench-scale` measures [1 2]).
	Instances []int
}

// Result is one timed `run --until-idle`, of one or more processes.
type Result struct {
	Bin string
	// Instances is how many processes shared the group; Wall is until the
	// last one exited, CPU their sum, PeakRSS the largest.
	Instances int
	Wall      time.Duration
	CPU       time.Duration
	// ServerCPU is the ClickHouse server's CPU (user+system) while the
	// run lasted: the inserts, lookups, refreshes and merges it caused.
	ServerCPU time.Duration
	// BrokerCPU is this process's CPU while the run lasted: mostly the
	// embedded broker serving the fetches, which shares the machine.
	BrokerCPU time.Duration
	PeakRSS   int64 // bytes
	Rows      int
	Calls     int
	Checked   bool
	Mismatch  int
	// Reloaded counts rows stored again identical: a poll loaded by a
	// member that lost its partitions before committing, and loaded
	// again by the next owner (raw_signals keeps one version per call, so
	// reads count it once). Only a rebalance explains one: with a single
	// instance it is a mismatch.
	Reloaded int
}

// CallsPerSec is the throughput.
func (r Result) CallsPerSec() float64 { return float64(r.Calls) / r.Wall.Seconds() }

// CPUPerCall is CPU (user+system) microseconds per call.
func (r Result) CPUPerCall() float64 { return float64(r.CPU.Microseconds()) / float64(r.Calls) }

// ServerCPUPerCall is the server's CPU microseconds per call.
func (r Result) ServerCPUPerCall() float64 {
	return float64(r.ServerCPU.Microseconds()) / float64(r.Calls)
}

// Run publishes the calls once and times each binary over them.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Bin == "" {
		return errors.New("bench-e2e: Bin is empty; build bin/phonesignals first (make build)")
	}
	if cfg.Calls == 0 {
		cfg.Calls = 1_000_000
	}
	if cfg.Orgs == 0 {
		cfg.Orgs = 20
	}
	if cfg.Runs == 0 {
		cfg.Runs = 1
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	if cfg.Out == nil {
		cfg.Out = os.Stdout
	}
	if len(cfg.Instances) == 0 {
		cfg.Instances = []int{1}
	}
	if cfg.Dir == "" {
		d, err := os.MkdirTemp("", "bench-e2e-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		cfg.Dir = d
	}
	srv, err := chserver.Start(ctx, chserver.Config{Dir: filepath.Join(cfg.Dir, "clickhouse")})
	if err != nil {
		return fmt.Errorf("starting clickhouse 18.16: %w", err)
	}
	defer srv.Stop()
	// The broker runs in this process, in memory: the measured process
	// talks to it over the Kafka protocol like to any external broker.
	emb, err := bus.StartEmbedded("", 0)
	if err != nil {
		return err
	}
	defer emb.Close()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	box, err := secret.New(key)
	if err != nil {
		return err
	}
	env := append(os.Environ(), secret.EnvKey+"="+base64.StdEncoding.EncodeToString(key))
	expected, bad, err := publish(ctx, cfg, emb.Config(), box)
	if err != nil {
		return err
	}
	bins := []string{cfg.Bin}
	if cfg.BaselineBin != "" {
		bins = []string{cfg.BaselineBin, cfg.Bin}
	}
	m := measurer{cfg: cfg, srv: srv, bcfg: emb.Config(), env: env, expected: expected, bad: bad}
	results := map[string][]Result{}
	for run := 0; run < cfg.Runs; run++ {
		for bi, bin := range bins {
			for _, n := range cfg.Instances {
				res, err := m.measure(ctx, bin, n, fmt.Sprintf("bench_%d_%d_%d", bi, n, run), run == cfg.Runs-1)
				if err != nil {
					return err
				}
				results[resultKey(bin, n)] = append(results[resultKey(bin, n)], res)
			}
		}
	}
	if cfg.BaselineBin != "" {
		b, c := best(results[resultKey(cfg.BaselineBin, cfg.Instances[0])]), best(results[resultKey(cfg.Bin, cfg.Instances[0])])
		_, _ = fmt.Fprintf(cfg.Out, "ratio (best of %d each): %.2fx calls/s, %.2fx CPU per call, %.2fx peak RSS\n",
			cfg.Runs, c.CallsPerSec()/b.CallsPerSec(), c.CPUPerCall()/b.CPUPerCall(), float64(c.PeakRSS)/float64(b.PeakRSS))
	}
	reportScale(cfg, results)
	for _, rs := range results {
		for _, r := range rs {
			if !r.Checked {
				return fmt.Errorf("bench-e2e: %s loaded %d rows with %d mismatches", r.Bin, r.Rows, r.Mismatch)
			}
		}
	}
	return nil
}

func resultKey(bin string, instances int) string { return fmt.Sprintf("%s x%d", bin, instances) }

// reportScale prints, for more than one instance count, each count's CPU
// per call against the first: the figure that says whether N members of
// one group pay for their rebalances, idle polls and refreshes.
func reportScale(cfg Config, results map[string][]Result) {
	if len(cfg.Instances) < 2 {
		return
	}
	first := best(results[resultKey(cfg.Bin, cfg.Instances[0])])
	for _, n := range cfg.Instances[1:] {
		r := best(results[resultKey(cfg.Bin, n)])
		_, _ = fmt.Fprintf(cfg.Out, "scale (best of %d each): %d instances %.2f us CPU/call, %d instance(s) %.2f us CPU/call: %.2fx CPU per call, %.2fx calls/s\n",
			cfg.Runs, n, r.CPUPerCall(), cfg.Instances[0], first.CPUPerCall(), r.CPUPerCall()/first.CPUPerCall(), r.CallsPerSec()/first.CallsPerSec())
	}
}

// measurer times binaries over the records Run published.
type measurer struct {
	cfg      Config
	srv      *chserver.Server
	bcfg     bus.Config
	env      []string
	expected map[string]callgen.Expected
	bad      int
}

// measure times n processes of bin into a fresh database db, checks every
// row and prints the figures; the group is reset afterwards so the next
// measurement reads the topic from its start.
func (m measurer) measure(ctx context.Context, bin string, n int, db string, last bool) (Result, error) {
	prof := ""
	if bin == m.cfg.Bin && last {
		prof = m.cfg.CPUProfile
	}
	if _, err := m.srv.Query(ctx, "DROP DATABASE IF EXISTS "+db); err != nil {
		return Result{}, err
	}
	if n > 1 || len(m.cfg.Instances) > 1 {
		// Members started together would each apply the migrations, racing
		// on the same statements; a deployment migrates once, then starts
		// them. Every count is measured so, to compare like with like.
		if err := migrate(ctx, bin, db, m.srv.Addr(), m.env, m.cfg.Dir); err != nil {
			return Result{}, err
		}
	}
	srvBefore, selfBefore := procCPU(m.srv.Pid()), procCPU(os.Getpid())
	res, err := timeRuns(ctx, n, bin, db, m.srv.Addr(), m.bcfg, m.env, prof, m.cfg.Dir)
	if err != nil {
		return Result{}, err
	}
	res.ServerCPU, res.BrokerCPU = procCPU(m.srv.Pid())-srvBefore, procCPU(os.Getpid())-selfBefore
	res.Calls = m.cfg.Calls
	if err := check(ctx, m.srv.Addr(), db, m.expected, m.bad, n > 1, &res); err != nil {
		return Result{}, err
	}
	name := filepath.Base(filepath.Dir(bin)) + "/" + filepath.Base(bin)
	if len(m.cfg.Instances) > 1 {
		name += fmt.Sprintf(" x%d", n)
	}
	if res.Reloaded > 0 {
		_, _ = fmt.Fprintf(m.cfg.Out, "%s: %d rows loaded twice across a rebalance (identical; read once)\n", name, res.Reloaded)
	}
	_, _ = fmt.Fprintf(m.cfg.Out, "%-40s %9.0f calls/s  %6.2f us CPU/call  %5.0f MB peak RSS  %s wall  clickhouse %5.2f, broker %5.2f us CPU/call  rows ok: %v\n",
		name, res.CallsPerSec(), res.CPUPerCall(), float64(res.PeakRSS)/1e6, res.Wall.Round(time.Millisecond), res.ServerCPUPerCall(), float64(res.BrokerCPU.Microseconds())/float64(res.Calls), res.Checked)
	return res, resetGroup(ctx, m.bcfg)
}

// migrate runs `bin migrate` on db.
func migrate(ctx context.Context, bin, db, chAddr string, env []string, dir string) error {
	cmd := exec.CommandContext(ctx, bin, "--clickhouse", chAddr, "--database", db, "--data-dir", filepath.Join(dir, "data"), "--log-level", "warn", "migrate")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s migrate --database %s: %w\n%s", bin, db, err, out)
	}
	return nil
}

// timeRuns starts n `run --until-idle` processes of bin at once, in one
// consumer group, and sums what they used; the first gets the CPU profile.
func timeRuns(ctx context.Context, n int, bin, db, chAddr string, bcfg bus.Config, env []string, cpuProfile, dir string) (Result, error) {
	if n <= 1 {
		res, err := timeRun(ctx, bin, db, chAddr, bcfg, env, cpuProfile, dir)
		res.Instances = 1
		return res, err
	}
	start := time.Now()
	out := make([]Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			prof := ""
			if i == 0 {
				prof = cpuProfile
			}
			// Each member its own data dir and log, as on its own host.
			sub := filepath.Join(dir, fmt.Sprintf("member-%d", i))
			if errs[i] = os.MkdirAll(sub, 0o700); errs[i] == nil {
				out[i], errs[i] = timeRun(ctx, bin, db, chAddr, bcfg, env, prof, sub)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return Result{}, err
	}
	sum := Result{Bin: bin, Instances: n, Wall: time.Since(start)}
	for _, r := range out {
		sum.CPU += r.CPU
		sum.PeakRSS = max(sum.PeakRSS, r.PeakRSS)
	}
	return sum, nil
}

func best(rs []Result) Result {
	b := rs[0]
	for _, r := range rs[1:] {
		if r.Wall < b.Wall {
			b = r
		}
	}
	return b
}

// publish generates the calls and publishes them sealed, as the poller
// does, from two goroutines. It returns the expected rows by call id.
func publish(ctx context.Context, cfg Config, bcfg bus.Config, box *secret.Box) (map[string]callgen.Expected, int, error) {
	if err := bus.EnsureTopics(ctx, bcfg); err != nil {
		return nil, 0, err
	}
	gen := callgen.NewGenerator(cfg.Seed, cfg.Orgs, time.Now())
	expected := make(map[string]callgen.Expected, cfg.Calls)
	const chunk = 5000
	work := make(chan []model.RawCall, 4)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for w := 0; w < 2; w++ {
		pub, err := bus.NewPublisher(bcfg, box, bus.TopicRaw)
		if err != nil {
			return nil, 0, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer pub.Close()
			for calls := range work {
				if err := pub.Publish(ctx, calls); err != nil {
					mu.Lock()
					firstErr = errors.Join(firstErr, err)
					mu.Unlock()
				}
			}
		}()
	}
	start := time.Now()
	bad, bytes := 0, 0
	for i := 0; i < cfg.Calls; i += chunk {
		calls := make([]model.RawCall, 0, chunk)
		for j := i; j < min(i+chunk, cfg.Calls); j++ {
			raw, e, isBad := gen.Next()
			bytes += len(raw.Body)
			if isBad {
				bad++
			} else {
				expected[raw.CallID] = e
			}
			calls = append(calls, raw)
		}
		work <- calls
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return nil, 0, firstErr
	}
	_, _ = fmt.Fprintf(cfg.Out, "published %d calls (%d bad), %d bytes per body on average, in %s\n",
		cfg.Calls, bad, bytes/cfg.Calls, time.Since(start).Round(time.Millisecond))
	return expected, bad, nil
}

// timeRun runs `bin run --until-idle` and measures it with the kernel's
// accounting of the child (wall time, user+system CPU, peak RSS).
func timeRun(ctx context.Context, bin, db, chAddr string, bcfg bus.Config, env []string, cpuProfile, dir string) (Result, error) {
	cmd := exec.CommandContext(ctx, bin, "--clickhouse", chAddr, "--database", db, "--brokers", strings.Join(bcfg.Brokers, ","),
		"--data-dir", filepath.Join(dir, "data"), "--log-level", cmp.Or(os.Getenv("BENCH_LOG_LEVEL"), "warn"), "run", "--until-idle")
	cmd.Env = env
	if cpuProfile != "" {
		cmd.Env = append(cmd.Env, "PHONESIGNALS_CPU_PROFILE="+cpuProfile)
	}
	logPath := filepath.Join(dir, db+".log")
	out, err := os.Create(logPath)
	if err != nil {
		return Result{}, err
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Result{}, fmt.Errorf("starting %s: %w", bin, err)
	}
	done := make(chan struct{})
	peak := make(chan int64, 1)
	go func() { peak <- watchHWM(cmd.Process.Pid, done) }()
	err = cmd.Wait()
	wall := time.Since(start)
	close(done)
	hwm := <-peak
	if err != nil {
		return Result{}, fmt.Errorf("%s run --until-idle: %w (output in %s)", bin, err, logPath)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return Result{Bin: bin, Wall: wall, CPU: cpu, PeakRSS: hwm}, nil
}

// watchHWM polls the process's VmHWM (peak resident set) until done. The
// rusage of the child is no use here: Go starts children with a vfork
// that shares this process's memory until exec, and Linux counts that in
// the child's ru_maxrss (this process holds the broker's records).
func watchHWM(pid int, done <-chan struct{}) int64 {
	var peak int64
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					var kb int64
					if _, err := fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), &kb); err == nil && kb*1024 > peak {
						peak = kb * 1024
					}
				}
			}
		}
		select {
		case <-done:
			return peak
		case <-tick.C:
		}
	}
}

// resetGroup deletes the transform's group so the next binary reads the
// topic from its start.
func resetGroup(ctx context.Context, bcfg bus.Config) error {
	cl, err := kgo.NewClient(bcfg.Opts()...)
	if err != nil {
		return err
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).DeleteGroups(ctx, bus.GroupTransform); err != nil {
		return fmt.Errorf("resetting group %s: %w", bus.GroupTransform, err)
	}
	return nil
}

// check compares every loaded row with the generator's expectation and
// counts the dead letters; with several members (members) a row stored
// again identical is counted in Reloaded, not as a mismatch.
func check(ctx context.Context, addr, db string, expected map[string]callgen.Expected, bad int, members bool, res *Result) error {
	st, err := store.Open(ctx, store.Config{Addr: addr, Database: db, NoCreate: true})
	if err != nil {
		return err
	}
	defer st.Close()
	rows, err := st.Conn().Query(ctx, `SELECT call_id, user_id, toUInt32(started_at), direction, duration_sec, status,
		after_hours, escalated, resolved, version FROM raw_signals`)
	if err != nil {
		return fmt.Errorf("reading back raw_signals: %w", err)
	}
	defer rows.Close()
	seen := make(map[string]bool, len(expected))
	for rows.Next() {
		var id string
		var g callgen.Expected
		var started uint32
		if err := rows.Scan(&id, &g.UserID, &started, &g.Direction, &g.DurationSec, &g.Status, &g.AfterHours, &g.Escalated, &g.Resolved, &g.Version); err != nil {
			return err
		}
		g.StartedAt = int64(started)
		res.Rows++
		want, ok := expected[id]
		if g.Version>>model.TieBits == want.Version {
			// Stored with its tie-breaker (model.StoreVersion); a baseline
			// built before it stores the decoded version as it is.
			g.Version = want.Version
		}
		if ok && seen[id] && want == g && members {
			res.Reloaded++
			continue
		}
		if !ok || seen[id] || want != g {
			if res.Mismatch < 5 {
				fmt.Fprintf(os.Stderr, "row %s: got %+v, want %+v (expected %v, seen %v)\n", id, g, want, ok, seen[id])
			}
			res.Mismatch++
		}
		seen[id] = true
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// A poll loaded again records its dead letters again; every read of
	// them counts distinct records (topic, partition, offset).
	var dead, records uint64
	if err := st.Conn().QueryRow(ctx, "SELECT count(), uniqExact(topic, partition, offset) FROM dead_letters").Scan(&dead, &records); err != nil {
		return err
	}
	if int(records) != bad || (!members && dead != records) {
		fmt.Fprintf(os.Stderr, "%d dead letters of %d records, want %d\n", dead, records, bad)
		res.Mismatch++
	}
	res.Checked = res.Mismatch == 0 && res.Rows-res.Reloaded == len(expected)
	return nil
}

// procCPU is the CPU time (user+system) process pid used so far, from
// /proc/pid/stat (fields 14 and 15, in clock ticks of 1/100 s on Linux);
// zero when it cannot be read.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces; the fields after it
	// start behind its closing parenthesis.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}
