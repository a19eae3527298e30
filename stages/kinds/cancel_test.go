package kinds_test

import (
	"context"
	"errors"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/stages"
)

// TestStopAtFirstReport runs each kind that reports progress from its loops, cancelling as
// the first report arrives: the run must return an error wrapping context.Canceled, which
// shows that the loop goes on checking the context it was given. Run to the end instead,
// the last report must be the whole count, so that a display ends at 100%.
func TestStopAtFirstReport(t *testing.T) {
	f := newFixture(t)
	seq := cty.ListVal(f.nets[:2])
	tests := []struct {
		name, kind string
		cfg        map[string]cty.Value
	}{
		{"match weight", "match", map[string]cty.Value{"reference": f.nets[0], "target": f.nets[1]}},
		{"match activation", "match", map[string]cty.Value{"reference": f.nets[0], "target": f.nets[1], "method": cty.StringVal("activation"), "data": f.data, "examples": cty.NumberIntVal(100)}},
		{"interpolate", "interpolate", map[string]cty.Value{"a": f.nets[0], "b": f.nets[1], "data": f.data, "points": cty.NumberIntVal(5), "train_examples": cty.NumberIntVal(100)}},
		{"interpolate rematch", "interpolate", map[string]cty.Value{"a": seq, "b": seq, "rematch": cty.True, "data": f.data, "points": cty.NumberIntVal(3)}},
		{"merge_three", "merge_three", map[string]cty.Value{"networks": cty.ListVal(f.nets), "data": f.data, "resolution": cty.NumberIntVal(4), "points": cty.NumberIntVal(5)}},
	}
	for _, tt := range tests {
		k := kind(t, tt.kind)
		cfg := k.Schema.Config(tt.cfg)

		ctx, cancel := context.WithCancel(context.Background())
		reports := 0
		in := &stages.Input{Address: tt.kind + ".x", Config: cfg, Threads: 1, Read: f.read, Progress: func(stages.Progress) {
			reports++
			cancel()
		}}
		_, err := k.Run(ctx, in)
		cancel()
		if !errors.Is(err, context.Canceled) || reports == 0 {
			t.Errorf("%s: cancelled at its first report: got %v after %d reports, want context.Canceled after at least one", tt.name, err, reports)
		}

		var last stages.Progress
		in = &stages.Input{Address: tt.kind + ".x", Config: cfg, Threads: 1, Read: f.read, Progress: func(p stages.Progress) { last = p }}
		if _, err := k.Run(context.Background(), in); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if tt.name != "match weight" && (last.Total == 0 || last.Done != last.Total) {
			t.Errorf("%s: last report %+v, want the whole count done", tt.name, last)
		}
	}
}
