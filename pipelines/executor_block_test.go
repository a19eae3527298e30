package pipelines

import (
	"testing"
	"time"
)

func TestParseMem(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"4096", 4096, true}, {"512M", 512, true}, {"8G", 8192, true}, {"8g", 8192, true}, {"1T", 1 << 20, true},
		{"8GiB", 8192, true}, {"2048K", 2, true}, {"1K", 1, true},
		{"", 0, false}, {"0", 0, false}, {"lots", 0, false}, {"-1G", 0, false}, {"1.5G", 0, false}, {"99999999T", 0, false},
	} {
		got, err := ParseMem(c.in)
		if (err == nil) != c.ok || got != c.want && c.ok {
			t.Errorf("ParseMem(%q) = %d, %v; want %d ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}

func TestParseTime(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"90m", 90 * time.Minute, true}, {"2h30m", 150 * time.Minute, true},
		{"30", 30 * time.Minute, true}, {"30:15", 30*time.Minute + 15*time.Second, true},
		{"04:00:00", 4 * time.Hour, true}, {"1-12", 36 * time.Hour, true}, {"1-12:30", 36*time.Hour + 30*time.Minute, true},
		{"2-00:00:01", 48*time.Hour + time.Second, true},
		{"", 0, false}, {"0", 0, false}, {"-5m", 0, false}, {"3 days", 0, false}, {"1:2:3:4", 0, false}, {"x-1", 0, false},
	} {
		got, err := ParseTime(c.in)
		if (err == nil) != c.ok || got != c.want && c.ok {
			t.Errorf("ParseTime(%q) = %s, %v; want %s ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}
