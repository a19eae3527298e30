package safego

import (
	"strings"
	"testing"
)

func TestGroupCarriesPanic(t *testing.T) {
	defer func() {
		r := recover()
		p, ok := r.(*Panic)
		if !ok {
			t.Fatalf("Wait raised %v, want a *Panic", r)
		}
		if p.Value != "boom" || !strings.Contains(string(p.Stack), "safego_test") {
			t.Errorf("Panic = %v, stack without the helper's frame:\n%s", p.Value, p.Stack)
		}
	}()
	var g Group
	done := make(chan bool, 1)
	g.Go(func() { done <- true })
	g.Go(func() { panic("boom") })
	g.Wait()
	t.Fatal("Wait returned after a helper panicked")
}

func TestGroupWithoutPanic(t *testing.T) {
	var g Group
	n := 0
	g.Catch(func() { n++ })
	g.Go(func() {})
	g.Wait()
	if n != 1 {
		t.Errorf("Catch ran f %d times", n)
	}
}
