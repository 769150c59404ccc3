package transform

import (
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/phonesignals/phonesignals/ingest/aircall"
	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/model/modeltest"
	"github.com/phonesignals/phonesignals/internal/testkit/callgen"
)

// BenchmarkRules runs the three rules over the bench-e2e workload (20,000
// calls, 60% with notes of 0 to 500 bytes) as column kernels over Arrow
// arrays and, in the same run, row at a time over modeltest.Call (Apply, rules_test.go:
// strings.ToLower per note, as before). It reports calls per second of
// each and the kernel's speed-up.
func BenchmarkRules(b *testing.B) {
	gen := callgen.NewGenerator(1, 20, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	const n = 20000
	calls := make([]modeltest.Call, 0, n)
	mem := memory.NewGoAllocator()
	notesB := array.NewBinaryBuilder(mem, arrow.BinaryTypes.Binary)
	tagsB := array.NewBinaryBuilder(mem, arrow.BinaryTypes.Binary)
	starts := make([]int64, 0, n)
	completed := make([]uint8, 0, n)
	var v model.Call
	for len(calls) < n {
		raw, _, bad := gen.Next()
		if bad {
			continue
		}
		if err := aircall.Decode(raw, &v); err != nil {
			b.Fatal(err)
		}
		calls = append(calls, modeltest.Of(raw, &v))
		notesB.Append(v.Notes)
		tagsB.Append(v.Tags)
		starts = append(starts, v.StartedAt)
		completed = append(completed, u8(v.Connected && v.Completed))
	}
	notes, tags := notesB.NewBinaryArray(), tagsB.NewBinaryArray()
	after, esc, res := make([]uint8, n), make([]uint8, n), make([]uint8, n)
	kernel := func() {
		clear(esc)
		clear(res)
		afterHoursKernel(starts, after)
		matchColumn(notes.ValueBytes(), notes.ValueOffsets(), escalationKW, esc)
		matchColumn(tags.ValueBytes(), tags.ValueOffsets(), escalationKW, esc)
		matchColumn(notes.ValueBytes(), notes.ValueOffsets(), resolutionKW, res)
		for i, c := range completed {
			res[i] |= c
		}
	}
	var sink int
	row := func() {
		for i := range calls {
			f := Apply(&calls[i])
			sink += int(u8(f.AfterHours) + u8(f.Escalated) + u8(f.Resolved))
		}
	}
	// The two must agree before their speeds are compared.
	kernel()
	for i := range calls {
		f := Apply(&calls[i])
		if u8(f.AfterHours) != after[i] || u8(f.Escalated) != esc[i] || u8(f.Resolved) != res[i] {
			b.Fatalf("call %d: kernel %d%d%d, row rule %+v (notes %q tags %q)", i, after[i], esc[i], res[i], f, calls[i].Notes, calls[i].Tags)
		}
	}
	// Per core: the CPU time of this goroutine's thread, so other jobs on
	// a shared machine do not count.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var kd, rd time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := threadCPU()
		kernel()
		kd += threadCPU() - start
		start = threadCPU()
		row()
		rd += threadCPU() - start
	}
	total := float64(b.N * n)
	b.ReportMetric(total/kd.Seconds(), "kernel_calls/cpu_s")
	b.ReportMetric(total/rd.Seconds(), "row_calls/cpu_s")
	b.ReportMetric(rd.Seconds()/kd.Seconds(), "x_row")
	_ = sink
}

// threadCPU is the CPU time (user and system) of the calling thread.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
