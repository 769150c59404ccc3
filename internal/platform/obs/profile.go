package obs

import (
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"time"
)

// StartCPUProfile writes a CPU profile of the whole process to path until
// stop is called (`make bench-e2e` sets it through
// PHONESIGNALS_CPU_PROFILE); "" does nothing. On an error stop is still
// safe to call and does nothing.
func StartCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return func() {}, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() {}, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// WatchHeapPeak writes a heap profile to path each time the live heap
// reaches a new high (checked every 100 ms), so the file ends up showing
// what held memory at the peak (`make bench-e2e` sets it through
// PHONESIGNALS_HEAP_PROFILE); "" does nothing.
func WatchHeapPeak(path string) {
	if path == "" {
		return
	}
	runtime.MemProfileRate = 64 << 10
	go func() {
		var peak uint64
		samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for range time.Tick(100 * time.Millisecond) {
			metrics.Read(samples)
			if v := samples[0].Value.Uint64(); v > peak+peak/20 {
				peak = v
				if f, err := os.Create(path); err == nil {
					_ = pprof.Lookup("heap").WriteTo(f, 0)
					f.Close()
				}
			}
		}
	}()
}
