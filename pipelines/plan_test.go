package pipelines

import (
	"strings"
	"testing"

	"github.com/modulo-ml/modulo/artifacts"
)

// TestDiffKeys checks the reasons plan gives for a changed key, one per changed line.
func TestDiffKeys(t *testing.T) {
	base := []artifacts.KeyLine{
		{Label: "salt", Value: Salt}, {Label: "stage", Value: "train"}, {Label: "version", Value: "1"},
		{Label: "attr.data", Value: `{"artifact":"dataset:sha256:aa"}`}, {Label: "attr.epochs", Value: "10"},
		{Label: "file.images", Value: "sha256:01"},
	}
	with := func(label, value string) []artifacts.KeyLine {
		out := append([]artifacts.KeyLine(nil), base...)
		for i := range out {
			if out[i].Label == label {
				if value == "" {
					return append(out[:i], out[i+1:]...)
				}
				out[i].Value = value
				return out
			}
		}
		return append(out, artifacts.KeyLine{Label: label, Value: value})
	}
	tests := []struct {
		new  []artifacts.KeyLine
		want string
	}{
		{with("attr.epochs", "20"), "attribute epochs changed: 10 → 20"},
		{with("version", "2"), "stage version changed: 1 → 2"},
		{with("attr.data", `{"artifact":"dataset:sha256:bb"}`), "input data changed"},
		{with("file.images", "sha256:02"), "input file images changed"},
		{with("attr.seed", "3"), "attribute seed added: 3"},
		{with("attr.epochs", ""), "attribute epochs removed"},
		{with("salt", "modulo-key-0"), "modulo's key format changed"},
		{with("numerics", "conv-2"), "numerical kernels changed: none → conv-2"},
		{base, "key changed"},
	}
	for _, tt := range tests {
		if got := strings.Join(diffKeys(base, tt.new), "; "); got != tt.want {
			t.Errorf("diffKeys = %q, want %q", got, tt.want)
		}
	}
}
