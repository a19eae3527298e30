package slurmtest

import (
	"context"
	"testing"
)

// TestStart starts a cluster and asks it about a job it never had.
func TestStart(t *testing.T) {
	c := Start(t)
	sts, err := c.Client().Statuses(context.Background(), []string{"999"})
	if err != nil {
		t.Fatal(err)
	}
	if len(sts) != 0 {
		t.Errorf("Statuses of an unknown job = %+v, want none", sts)
	}
}
