package browser

import (
	"fmt"
	"image"
	"image/color"
)

// maxColors caps the colours Inspect tells apart. A rendered page has a few
// thousand (anti-aliased text and lines); only photographs reach the cap, and
// they are far from blank.
const maxColors = 1 << 16

// Stats summarises a screenshot: enough to tell a blank page from a rendered
// one, and to say why in a failed test.
type Stats struct {
	Width, Height int

	// Colors is the number of distinct colours, at most 65536.
	Colors int

	// Background is the most common colour, which on a page is the
	// background.
	Background color.RGBA64

	// NonBackground is the fraction of pixels of another colour than
	// Background: the page's ink.
	NonBackground float64
}

// Blank reports whether the screenshot shows nothing much: it has a single
// colour, or less than 0.1% of its pixels differ from the background.
//
// One colour is what a page that failed to render looks like, but a test of
// "at least two colours" alone would pass a page that shows only a stray
// mark. In a 1200×900 screenshot from Chromium, a text caret inks 0.001% of
// the pixels, one word of body text 0.02%, a one-word heading just under 0.1%, a line of
// text across the window 0.3%, and a small report (a heading, a table of
// four rows and a plot) 1.1%. So 0.1% means less than a line of text: a
// report of which only the title rendered counts as blank, which is what a
// report's test wants to hear, while one with its tables and plots is far
// above it.
func (s Stats) Blank() bool {
	return s.Colors < 2 || s.NonBackground < 0.001
}

func (s Stats) String() string {
	bg := color.NRGBA64Model.Convert(s.Background).(color.NRGBA64)
	return fmt.Sprintf("%dx%d, %d colours, background #%02x%02x%02x, %.3f%% other pixels",
		s.Width, s.Height, s.Colors, bg.R>>8, bg.G>>8, bg.B>>8, 100*s.NonBackground)
}

// Inspect counts the colours of img and how much of it differs from the most
// common one. Colours are compared exactly, as a PNG keeps them. Beyond
// maxColors colours, later new colours are not counted and count as
// foreground; such an image has the cap for Colors and is not blank either way.
func Inspect(img image.Image) Stats {
	r := img.Bounds()
	s := Stats{Width: r.Dx(), Height: r.Dy()}
	n := r.Dx() * r.Dy()
	if n == 0 {
		return s
	}
	// Every image type of the standard library has RGBA64At, which returns a
	// colour without boxing it in an interface as At does.
	at := func(x, y int) color.RGBA64 {
		r, g, b, a := img.At(x, y).RGBA()
		return color.RGBA64{uint16(r), uint16(g), uint16(b), uint16(a)}
	}
	if m, ok := img.(image.RGBA64Image); ok {
		at = m.RGBA64At
	}
	counts := make(map[color.RGBA64]int)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := at(x, y)
			if _, ok := counts[c]; ok || len(counts) < maxColors {
				counts[c]++
			}
		}
	}
	best := -1
	for c, k := range counts {
		// Ties go to the smaller colour, so that the result does not
		// depend on the order of map iteration.
		if k > best || k == best && less(c, s.Background) {
			s.Background, best = c, k
		}
	}
	s.Colors = len(counts)
	s.NonBackground = float64(n-best) / float64(n)
	return s
}

func less(a, b color.RGBA64) bool {
	if a.R != b.R {
		return a.R < b.R
	}
	if a.G != b.G {
		return a.G < b.G
	}
	if a.B != b.B {
		return a.B < b.B
	}
	return a.A < b.A
}
