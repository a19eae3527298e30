package lap

import (
	"context"
	"errors"
	"math"
	"testing"
)

// FuzzSolve solves matrices of up to 6×6 made from the fuzz bytes and compares with brute
// force. Byte 0 picks the shape, byte 1 the sense, how bytes become costs, and whether a
// non-finite cost is planted; the rest are the costs.
func FuzzSolve(f *testing.F) {
	f.Add([]byte{0x23, 0x00, 4, 1, 3, 2, 0, 5, 3, 2, 2})
	f.Add([]byte{0x55, 0x01, 0, 1, 2, 2, 1, 0, 1, 1, 1, 0, 2, 2})
	f.Add([]byte{0x16, 0x02, 200, 100, 7, 9, 13, 250, 6, 1, 128, 127, 0, 255})
	f.Add([]byte{0x42, 0x07, 0xff, 0xef, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Add([]byte{0x31, 0x09, 1, 2, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 2 {
			return
		}
		rows, cols := int(data[0]>>4)%7, int(data[0]&15)%7
		maximize := data[1]&1 != 0
		mode := data[1] >> 1 & 3
		plant := data[1]&8 != 0
		data = data[2:]
		cost := make([]float64, rows*cols)
		for i := range cost {
			var b byte
			if len(data) > 0 {
				b = data[i%len(data)]
			}
			switch mode {
			case 0: // tie-heavy
				cost[i] = float64(b % 3)
			case 1:
				cost[i] = float64(int8(b))
			case 2:
				cost[i] = float64(int8(b)) / 7
			case 3: // wide dynamic range
				cost[i] = math.Ldexp(float64(int8(b)), int(b%64)-32)
			}
		}
		if plant && len(cost) > 0 {
			at := 0
			if len(data) > 0 {
				at = int(data[0]) % len(cost)
			}
			cost[at] = []float64{math.NaN(), math.Inf(1), math.Inf(-1)}[len(data)%3]
		}
		rowToCol, total, err := Solve(context.Background(), cost, rows, cols, maximize)
		if plant && len(cost) > 0 {
			if !errors.Is(err, ErrNotFinite) {
				t.Fatalf("planted non-finite cost: err = %v", err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		checkAssignment(t, cost, rows, cols, rowToCol, total)
		if want := bruteForce(cost, rows, cols, maximize); !near(total, want) {
			t.Fatalf("%dx%d max=%v cost %v: total %v (rowToCol %v), brute force %v",
				rows, cols, maximize, cost, total, rowToCol, want)
		}
	})
}
