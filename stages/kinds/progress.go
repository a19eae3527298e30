package kinds

import (
	"time"

	"github.com/modulo-ml/modulo/stages"
)

// reportEvery spaces a stage's progress reports: a few a second keep a live display moving
// without flooding a log or a program reading --progress json, however fast the loop.
const reportEvery = 200 * time.Millisecond

// throttle returns a reporter that passes p on to in.Report at most once per reportEvery,
// and always when last is set, so that a display ends on the final count. It is for one
// goroutine: the loops that report run on the stage's own.
func throttle(in *stages.Input) func(p stages.Progress, last bool) {
	var prev time.Time
	return func(p stages.Progress, last bool) {
		if now := time.Now(); last || now.Sub(prev) >= reportEvery {
			prev = now
			in.Report(p)
		}
	}
}
