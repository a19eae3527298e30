package bytesize

import "testing"

func TestParseAndFormat(t *testing.T) {
	for in, want := range map[string]int64{"": 0, "20GB": 20e9, "512MiB": 512 << 20, "1.5 GiB": 3 << 29, "1000": 1000, "7B": 7} {
		if got, err := Parse(in); err != nil || got != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"-1GB", "lots", "1.5"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted it", bad)
		}
	}
	for n, want := range map[int64]string{512: "512 B", 1536: "1.5 KiB", 3 << 29: "1.5 GiB"} {
		if got := Format(n); got != want {
			t.Errorf("Format(%d) = %q, want %q", n, got, want)
		}
	}
}
