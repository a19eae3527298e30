package nn

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the numerics on the standard library, gonum and x/sys/cpu (DESIGN
// §2): nn knows nothing of the cache, the engine or the language, and the readers of other
// tools' files (nn/torchsave and its pickle reader) sit beside it, not inside.
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	allowed := []string{"github.com/modulo-ml/modulo/nn", "github.com/modulo-ml/modulo/internal/safego",
		"github.com/modulo-ml/modulo/internal/atomicfile",
		"gonum.org/v1/gonum/", "golang.org/x/sys/cpu"}
	for _, p := range strings.Fields(string(out)) {
		first, _, _ := strings.Cut(p, "/")
		if !strings.Contains(first, ".") {
			continue // the standard library
		}
		ok := false
		for _, a := range allowed {
			ok = ok || strings.HasPrefix(p, a)
		}
		if !ok || strings.HasPrefix(p, "github.com/modulo-ml/modulo/nn/torchsave") {
			t.Errorf("package nn depends on %s", p)
		}
	}
}
