package conv

// The elementwise steps around the convolutions, in one pass each (in C where cgo is
// available).

// AddReLU sets y to max(y + short, 0): a residual block's sum and ReLU.
func AddReLU(y, short []float32) {
	if len(short) != len(y) {
		panic(ErrShape)
	}
	addReLU(y, short)
}

// Add adds src to dst.
func Add(dst, src []float32) {
	if len(src) != len(dst) {
		panic(ErrShape)
	}
	add(dst, src)
}

// ReLU sets the entries of x that are not positive to zero.
func ReLU(x []float32) { reLU(x) }

// ReLUBackward zeroes the gradient dy where the ReLU's output y is not positive.
func ReLUBackward(y, dy []float32) {
	if len(dy) != len(y) {
		panic(ErrShape)
	}
	reLUBackward(y, dy)
}
