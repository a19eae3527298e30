package nn

import (
	"fmt"
	"math"
)

// SoftmaxCrossEntropy returns the mean cross-entropy of logits (rows×classes) against labels
// and the number of rows whose arg-max is the label. If dlogits is not nil it receives the
// gradient of the mean loss with respect to the logits: (softmax − onehot)/rows.
// Accumulation is in float64; the log-sum-exp subtracts each row's maximum, as PyTorch does.
func SoftmaxCrossEntropy(logits []float32, labels []uint8, rows, classes int, dlogits []float32) (loss float64, correct int) {
	inv := 1 / float64(rows)
	total, correct := crossEntropy(logits, labels, rows, classes, inv, dlogits)
	return total * inv, correct
}

// crossEntropy is SoftmaxCrossEntropy for rows that may be part of a batch: it returns the
// summed (not the mean) loss, and the gradient is scaled by inv, one over the whole batch.
func crossEntropy(logits []float32, labels []uint8, rows, classes int, inv float64, dlogits []float32) (total float64, correct int) {
	if len(logits) < rows*classes || len(labels) < rows || (dlogits != nil && len(dlogits) < rows*classes) {
		panic(fmt.Errorf("%w: cross-entropy of %d rows × %d classes", ErrShape, rows, classes))
	}
	for r := 0; r < rows; r++ {
		row := logits[r*classes : (r+1)*classes]
		y := int(labels[r])
		best, arg := row[0], 0
		for j, v := range row {
			if v > best {
				best, arg = v, j
			}
		}
		if arg == y {
			correct++
		}
		mx := float64(best)
		var sum float64
		for _, v := range row {
			sum += math.Exp(float64(v) - mx)
		}
		lse := mx + math.Log(sum)
		total += lse - float64(row[y])
		if dlogits != nil {
			d := dlogits[r*classes : (r+1)*classes]
			for j, v := range row {
				p := math.Exp(float64(v) - lse)
				if j == y {
					p--
				}
				d[j] = float32(p * inv)
			}
		}
	}
	return total, correct
}
