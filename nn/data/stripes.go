package data

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// StripesConfig describes a synthetic image problem for convolutional networks, the image
// counterpart of SyntheticConfig: an image of class k shows stripes at the angle π·k/Classes
// with a random phase, plus Gaussian noise, in every channel. Orientation is what a
// convolution sees and what global pooling keeps, so small VGGs and ResNets learn it in a
// few epochs, which the Gaussian clusters (no spatial structure) do not allow.
type StripesConfig struct {
	Examples     int     `json:"examples"`      // training images, ≥ 1
	TestExamples int     `json:"test_examples"` // test images, ≥ 1
	Channels     int     `json:"channels"`      // ≥ 1
	Size         int     `json:"size"`          // images are Size×Size, ≥ 4
	Classes      int     `json:"classes"`       // 1 to 256
	Seed         uint64  `json:"seed"`
	Noise        float64 `json:"noise"` // the noise's standard deviation relative to the stripes' amplitude, ≥ 0
}

// stripePeriod is the stripes' period in pixels: fine enough for a 3×3 kernel to see an
// edge's orientation, coarse enough not to alias.
const stripePeriod = 4.0

func (cfg StripesConfig) validate() error {
	switch {
	case cfg.Examples < 1 || cfg.TestExamples < 1:
		return fmt.Errorf("stripes need at least 1 training and 1 test image, got %d and %d", cfg.Examples, cfg.TestExamples)
	case cfg.Channels < 1 || cfg.Size < 4:
		return fmt.Errorf("stripes need at least 1 channel and images of at least 4×4, got %d channels of %d×%d", cfg.Channels, cfg.Size, cfg.Size)
	case cfg.Classes < 1 || cfg.Classes > 256:
		return fmt.Errorf("stripes need between 1 and 256 classes (labels are bytes), got %d", cfg.Classes)
	case !(cfg.Noise >= 0) || math.IsInf(cfg.Noise, 0):
		return fmt.Errorf("the stripes' noise must be a finite number ≥ 0, got %g", cfg.Noise)
	}
	d := cfg.Channels * cfg.Size * cfg.Size
	if d > maxSyntheticFloats || cfg.Examples+cfg.TestExamples > maxSyntheticFloats/d {
		return fmt.Errorf("stripes of %d images of %d×%d×%d are too large (at most %d floats)", cfg.Examples+cfg.TestExamples, cfg.Channels, cfg.Size, cfg.Size, maxSyntheticFloats)
	}
	return nil
}

// Stripes generates the images cfg describes, NCHW, values around 0.5. The same
// configuration gives the same bytes; the test split depends only on the seed and its own
// size.
func Stripes(cfg StripesConfig) (*Dataset, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Dataset{Name: "stripes", Train: stripes(cfg, 0, cfg.Examples), Test: stripes(cfg, 1, cfg.TestExamples)}, nil
}

func stripes(cfg StripesConfig, split uint64, n int) *Set {
	C, S, K := cfg.Channels, cfg.Size, cfg.Classes
	D := C * S * S
	s := &Set{X: make([]float32, n*D), Y: make([]uint8, n), N: n, D: D, Classes: K, C: C, H: S, W: S}
	for i := range s.Y {
		s.Y[i] = uint8(i % K)
	}
	rand.New(rand.NewPCG(cfg.Seed, streamLabels+split)).Shuffle(n, func(i, j int) { s.Y[i], s.Y[j] = s.Y[j], s.Y[i] })
	rng := rand.New(rand.NewPCG(cfg.Seed, streamBlocks+split<<32))
	const amp = 0.25
	for i := range n {
		theta := math.Pi * float64(s.Y[i]) / float64(K)
		kx, ky := 2*math.Pi*math.Cos(theta)/stripePeriod, 2*math.Pi*math.Sin(theta)/stripePeriod
		phase := 2 * math.Pi * rng.Float64()
		img := s.X[i*D : (i+1)*D]
		for c := range C {
			for y := range S {
				for x := range S {
					v := 0.5 + amp*(math.Sin(kx*float64(x)+ky*float64(y)+phase)+cfg.Noise*rng.NormFloat64())
					img[(c*S+y)*S+x] = float32(v)
				}
			}
		}
	}
	return s
}
