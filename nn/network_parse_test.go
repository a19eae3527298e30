package nn

import (
	"reflect"
	"testing"
)

func TestParseArchInvertsString(t *testing.T) {
	for _, a := range []Arch{
		{Kind: "mlp", Input: 784, Hidden: []int{512, 512}, Output: 10, Activation: "relu", Bias: true},
		{Kind: "mlp", Input: 4, Hidden: []int{}, Output: 2, Activation: "tanh", LayerNorm: true},
		{Kind: "mlp", Input: 20, Hidden: []int{8}, Output: 4, Activation: "gelu", LayerNorm: true, Bias: true},
	} {
		got, err := ParseArch(a.String())
		if err != nil || !reflect.DeepEqual(got, a) {
			t.Errorf("ParseArch(%q) = %+v, %v; want %+v", a.String(), got, err, a)
		}
		if n := NewNetwork(a).NumParams(); int64(n) != a.NumParams() {
			t.Errorf("%s: Arch.NumParams = %d, the network holds %d", a, a.NumParams(), n)
		}
	}
	for _, bad := range []string{"", "mlp 784 relu", "mlp 784-x-10 relu", "mlp 4-2 relu wide", `{"dims":4}`} {
		if _, err := ParseArch(bad); err == nil {
			t.Errorf("ParseArch(%q) accepted it", bad)
		}
	}
}
