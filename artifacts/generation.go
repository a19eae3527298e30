package artifacts

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// generationFile names the cache's removal generation, a random token in the cache directory
// that changes before anything is removed from cas/ or ac/ (by gc, verify -repair, or a
// corrupt file found on read).
//
// It lets a caller that remembers which entries it found in the cache (the pipeline state
// behind a no-op run) trust them without opening one file per entry: while the generation is
// the one read before they were found, nothing has been removed since, and since cache files
// are never rewritten in place, they are all still there. This is what makes a no-op rerun of
// a thousand-node pipeline cost one small read instead of thousands of opens, the way ninja
// answers from its log rather than by probing every target. Removing files by hand defeats
// it; that is why such callers still check an entry when a run is about to read it.
const generationFile = "generation"

// Generation returns the cache's removal generation: "none" if nothing was ever removed, and
// "" if it cannot be read, which must never match a remembered generation.
func (c *Cache) Generation() string {
	b, err := os.ReadFile(filepath.Join(c.dir, generationFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "none"
	case err != nil:
		return ""
	}
	g := strings.TrimSpace(string(b))
	if g == "" || g == "none" {
		return "" // damaged: trust nothing
	}
	return g
}

// newGeneration replaces the removal generation with a fresh random token. It is called
// before each removal of a result (a blob or an entry), so that a reader who finds the
// generation unchanged knows nothing was removed since it last looked; called after, a
// crash between the two would leave removals unannounced.
func (c *Cache) newGeneration() error {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return c.writeTemp(filepath.Join(c.dir, generationFile), []byte(hex.EncodeToString(b[:])+"\n"))
}

// holdsResult reports whether path is a blob or an entry, whose removal changes the
// generation (lock files and temporary files do not).
func (c *Cache) holdsResult(path string) bool {
	for _, sub := range []string{casDir, acDir} {
		if strings.HasPrefix(path, filepath.Join(c.dir, sub)+string(filepath.Separator)) {
			return true
		}
	}
	return false
}
