package pipelines

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoNumerics keeps the engine free of the numerics (DESIGN §2): package pipelines
// reaches stage kinds only through the stages API, so neither it nor anything it imports
// may be a package of nn or the kinds that call into it.
func TestNoNumerics(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, "github.com/modulo-ml/modulo/nn") || p == "github.com/modulo-ml/modulo/stages/kinds" {
			t.Errorf("package pipelines depends on %s", p)
		}
	}
}
