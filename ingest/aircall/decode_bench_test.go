package aircall

import (
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/testkit/callgen"
)

// BenchmarkDecode decodes the bench-e2e workload (650-byte calls, 60% with
// notes) with Decode, whose one-pass fast path takes them all, and, in
// the same run, with its encoding/json fallback alone (decodeTolerant).
// It reports both in µs of CPU per call and their ratio (the metric names
// are those of earlier runs: call_view is Decode, call_json the fallback).
func BenchmarkDecode(b *testing.B) {
	gen := callgen.NewGenerator(1, 20, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	raws := make([]model.RawCall, 10000)
	for i := range raws {
		raws[i], _, _ = gen.Next()
	}
	var v model.Call
	// The CPU time of this goroutine's thread, so other jobs on a shared
	// machine do not count.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	timeIt := func(f func(model.RawCall)) time.Duration {
		start := threadCPU()
		for _, r := range raws {
			f(r)
		}
		return threadCPU() - start
	}
	var fast, slow time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fast += timeIt(func(r model.RawCall) { _ = Decode(r, &v) })
		slow += timeIt(func(r model.RawCall) { _ = decodeTolerant(r, &v) })
	}
	n := float64(b.N * len(raws))
	b.ReportMetric(fast.Seconds()*1e6/n, "us/call_view")
	b.ReportMetric(slow.Seconds()*1e6/n, "us/call_json")
	b.ReportMetric(slow.Seconds()/fast.Seconds(), "x_faster")
}

// threadCPU is the CPU time (user and system) of the calling thread.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
