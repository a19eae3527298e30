package nn

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the numerics on the standard library, gonum and x/sys (DESIGN §2;
// x/sys/unix for internal/hugeheap, which nn/data's large arrays are allocated with): nn
// knows nothing of the cache, the engine or the language, and the readers of other tools'
// files (nn/torchsave and its pickle reader) sit beside it, not inside.
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	allowed := []string{"github.com/modulo-ml/modulo/nn", "github.com/modulo-ml/modulo/internal/safego",
		"github.com/modulo-ml/modulo/internal/atomicfile", "github.com/modulo-ml/modulo/internal/hugeheap",
		"gonum.org/v1/gonum/", "golang.org/x/sys/cpu", "golang.org/x/sys/unix"}
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
