package browser

import (
	"image"
	"image/color"
	"image/draw"
	"testing"
)

func TestInspect(t *testing.T) {
	white := color.RGBA{255, 255, 255, 255}
	black := color.RGBA{0, 0, 0, 255}
	blue := color.RGBA{70, 130, 180, 255}

	// page returns a 1200x900 white image with rects filled in c.
	page := func(c color.Color, rects ...image.Rectangle) image.Image {
		img := image.NewRGBA(image.Rect(0, 0, 1200, 900))
		draw.Draw(img, img.Bounds(), image.NewUniform(white), image.Point{}, draw.Src)
		for _, r := range rects {
			draw.Draw(img, r, image.NewUniform(c), image.Point{}, draw.Src)
		}
		return img
	}
	// gray is a 100x100 image of 100 shades, each in one row.
	gray := image.NewGray(image.Rect(0, 0, 100, 100))
	for y := range 100 {
		for x := range 100 {
			gray.SetGray(x, y, color.Gray{uint8(y)})
		}
	}
	// paletted has no RGBA64At: Inspect falls back to At.
	paletted := image.NewPaletted(image.Rect(0, 0, 10, 10), color.Palette{white, black})
	paletted.SetColorIndex(3, 3, 1)

	tests := []struct {
		name       string
		img        image.Image
		colors     int
		background color.Color
		nonBG      float64
		blank      bool
	}{
		{"white", page(white), 1, white, 0, true},
		{"empty", image.NewRGBA(image.Rectangle{}), 0, color.RGBA{}, 0, true},
		{"one dot", page(black, image.Rect(600, 450, 601, 451)), 2, white, 1.0 / (1200 * 900), true},
		{"caret", page(black, image.Rect(10, 10, 12, 30)), 2, white, 40.0 / (1200 * 900), true},
		{"rectangle", page(blue, image.Rect(100, 100, 500, 300)), 2, white, 400 * 200 / (1200.0 * 900), false},
		{"mostly ink", page(black, image.Rect(0, 0, 1200, 800)), 2, black, 1.0 / 9, false},
		{"gray rows", gray, 100, color.Gray{0}, 0.99, false},
		{"offset bounds", page(blue, image.Rect(0, 0, 1200, 900)).(*image.RGBA).SubImage(image.Rect(10, 10, 20, 20)), 1, blue, 0, true},
		{"paletted", paletted, 2, white, 0.01, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Inspect(tt.img)
			r, g, b, a := tt.background.RGBA()
			bg := color.RGBA64{uint16(r), uint16(g), uint16(b), uint16(a)}
			if s.Colors != tt.colors || s.Background != bg || !near(s.NonBackground, tt.nonBG) {
				t.Errorf("Inspect = %+v; want %d colours, background %v, NonBackground %g", s, tt.colors, bg, tt.nonBG)
			}
			if s.Blank() != tt.blank {
				t.Errorf("Blank() = %v for %v", s.Blank(), s)
			}
		})
	}
}

// TestInspectCap checks that an image with more colours than maxColors is
// counted up to the cap and not called blank.
func TestInspectCap(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 512, 512))
	for y := range 512 {
		for x := range 512 {
			img.SetRGBA(x, y, color.RGBA{uint8(x), uint8(y), uint8(x>>8 | y>>8<<1), 255})
		}
	}
	s := Inspect(img)
	if s.Colors != maxColors || s.Blank() {
		t.Errorf("Inspect = %v; want %d colours, not blank", s, maxColors)
	}
}

func near(a, b float64) bool {
	d := a - b
	return -1e-12 < d && d < 1e-12
}
