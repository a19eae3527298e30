package lastlines

import (
	"slices"
	"testing"
)

func TestOf(t *testing.T) {
	for _, c := range []struct {
		s     string
		n     int
		want  []string
		total int
	}{
		{"", 3, nil, 0},
		{"\n\n", 3, nil, 0},
		{"a\nb\nc\n", 2, []string{"b", "c"}, 3},
		{"a\nb", 5, []string{"a", "b"}, 2},
		{"a\n\nb\n", 2, []string{"", "b"}, 3},
	} {
		got, total := Of(c.s, c.n)
		if !slices.Equal(got, c.want) || total != c.total {
			t.Errorf("Of(%q, %d) = %q, %d; want %q, %d", c.s, c.n, got, total, c.want, c.total)
		}
	}
}
