package conv

// MaxPool2 is 2×2 max-pooling with stride 2 (VGG's "M"; PyTorch's nn.MaxPool2d(2)), on n
// images of c channels of h×w. y is n×c×⌊h/2⌋×⌊w/2⌋ (an odd last row or column is dropped,
// as PyTorch does); arg records, for each output, the index in x of the maximum, which
// Backward routes the gradient to. Of equal values the first in reading order wins, as in
// PyTorch.
func MaxPool2(x []float32, n, c, h, w int, y []float32, arg []int32) {
	oh, ow := h/2, w/2
	if len(x) != n*c*h*w || len(y) != n*c*oh*ow || len(arg) != len(y) {
		panic(ErrShape)
	}
	maxPool2(x, n*c, h, w, y, arg)
}

// MaxPool2Backward writes to dx (zeroed first) the gradient of MaxPool2 given dy.
func MaxPool2Backward(dy []float32, arg []int32, dx []float32) {
	if len(dy) != len(arg) {
		panic(ErrShape)
	}
	clear(dx)
	for o, j := range arg {
		dx[j] += dy[o]
	}
}

// GlobalAvgPool averages each channel of n images of c channels of h×w: y is n×c.
func GlobalAvgPool(x []float32, n, c, h, w int, y []float32) {
	if len(x) != n*c*h*w || len(y) != n*c {
		panic(ErrShape)
	}
	inv := 1 / float64(h*w)
	for p := range n * c {
		var s float64
		for _, v := range x[p*h*w : (p+1)*h*w] {
			s += float64(v)
		}
		y[p] = float32(s * inv)
	}
}

// GlobalAvgPoolBackward writes to dx the gradient of GlobalAvgPool given dy: each pixel
// gets its channel's dy divided by h·w.
func GlobalAvgPoolBackward(dy []float32, n, c, h, w int, dx []float32) {
	if len(dx) != n*c*h*w || len(dy) != n*c {
		panic(ErrShape)
	}
	inv := float32(1 / float64(h*w))
	for p := range n * c {
		g := dy[p] * inv
		row := dx[p*h*w : (p+1)*h*w]
		for j := range row {
			row[j] = g
		}
	}
}
