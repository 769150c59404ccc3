package bus

import (
	"io"
	"log/slog"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kslog"
)

// franz-go's info lines (joins, rebalances) show at debug level only; its
// warnings show at info level.
func TestKafkaLogLevels(t *testing.T) {
	for _, tt := range []struct {
		level slog.Level
		want  kgo.LogLevel
	}{{slog.LevelDebug, kgo.LogLevelDebug}, {slog.LevelInfo, kgo.LogLevelWarn}, {slog.LevelWarn, kgo.LogLevelWarn}, {slog.LevelError, kgo.LogLevelError}} {
		l := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: tt.level}))
		if got := (kgoLogger{kslog.New(l)}).Level(); got != tt.want {
			t.Errorf("slog level %v: franz-go level %v, want %v", tt.level, got, tt.want)
		}
	}
}
