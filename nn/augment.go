package nn

import (
	"fmt"
	"math/rand/v2"
)

// Augment is the data augmentation of a training run on images, as CIFAR recipes use it
// (open_lth's and Git Re-Basin's): each image of each batch is shifted by a random crop of
// the image padded with Crop rows and columns of zeros on every side, and mirrored left to
// right with probability ½ when Flip. The draws come from the run's data-order seed, one per
// image in batch order, so a run is the same bits on every machine and whatever the
// threads. Evaluation sees the images as they are.
type Augment struct {
	Crop int  // padding of the random crop, in pixels; 0: no crop
	Flip bool // random horizontal flip
}

// streamAugment separates augmentation's draws from the data order's.
const streamAugment = 0x61756731 // "aug1"

// On reports whether a augments at all.
func (a Augment) On() bool { return a.Crop > 0 || a.Flip }

// Validate reports an augmentation that cannot apply to images of c×h×w (c = 0: not
// images).
func (a Augment) Validate(c, h, w int) error {
	if !a.On() {
		return nil
	}
	if c == 0 {
		return fmt.Errorf("random crops and flips apply to images, but the data are vectors of features")
	}
	if a.Crop < 0 || a.Crop > max(h, w) {
		return fmt.Errorf("the random crop's padding must be 0 to %d pixels for %d×%d images, got %d", max(h, w), h, w, a.Crop)
	}
	return nil
}

// augmenter draws each batch's transforms and applies them while copying images.
type augmenter struct {
	a       Augment
	c, h, w int
	rng     *rand.Rand
	draws   []augDraw
}

type augDraw struct {
	dy, dx int // the crop's offset from the centre, in −Crop..Crop
	flip   bool
}

func newAugmenter(a Augment, c, h, w int, seed uint64) *augmenter {
	if !a.On() {
		return nil
	}
	return &augmenter{a: a, c: c, h: h, w: w, rng: NewRand(seed, streamAugment)}
}

// draw draws the transforms of a batch of n images, in batch order.
func (g *augmenter) draw(n int) {
	g.draws = g.draws[:0]
	for range n {
		var d augDraw
		if g.a.Crop > 0 {
			d.dy = g.rng.IntN(2*g.a.Crop+1) - g.a.Crop
			d.dx = g.rng.IntN(2*g.a.Crop+1) - g.a.Crop
		}
		if g.a.Flip {
			d.flip = g.rng.IntN(2) == 1
		}
		g.draws = append(g.draws, d)
	}
}

// apply writes to dst image src transformed by draw i of the batch: dst(y, x) =
// src(y+dy, x'+dx) with x' = w−1−x when flipped, zero outside the image.
func (g *augmenter) apply(i int, dst, src []float32) {
	d := g.draws[i]
	h, w := g.h, g.w
	for c := range g.c {
		in, out := src[c*h*w:(c+1)*h*w], dst[c*h*w:(c+1)*h*w]
		for y := range h {
			row := out[y*w : (y+1)*w]
			sy := y + d.dy
			if sy < 0 || sy >= h {
				clear(row)
				continue
			}
			from := in[sy*w : (sy+1)*w]
			for x := range w {
				sx := x
				if d.flip {
					sx = w - 1 - x
				}
				sx += d.dx
				if sx < 0 || sx >= w {
					row[x] = 0
				} else {
					row[x] = from[sx]
				}
			}
		}
	}
}
