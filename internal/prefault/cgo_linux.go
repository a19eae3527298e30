//go:build cgo

package prefault

// The C constructor in prefault_linux.c is linked into every cgo build of a program that
// imports this package; this file is what makes the go tool compile it.

// extern int moduloPrefaultSegments;
import "C"

// populatedSegments returns how many of the executable's segments the constructor populated.
func populatedSegments() int { return int(C.moduloPrefaultSegments) }
