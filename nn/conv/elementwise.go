package conv

// The elementwise steps of a residual block, in one pass each (in C where cgo is
// available); the plain ReLU and its backward are package vec's.

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
