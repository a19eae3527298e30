//go:build !cgo || !linux

package blas

import "errors"

// Without cgo (or off Linux) there is no dlopen, so OpenBLAS cannot be loaded
// and Default always falls back to gonum; the reason is kept for LoadError.
var errNoCgo = errors.New("blas: OpenBLAS not loaded: binary built without cgo on linux (CGO_ENABLED=0 or another OS); using pure-Go gonum")

func openBLAS() (Impl, error) { return nil, errNoCgo }
