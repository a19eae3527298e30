//go:build modulo_testkinds

package main

import (
	"github.com/modulo-ml/modulo/stages"
	"github.com/modulo-ml/modulo/stages/stagetest"
)

// Binaries built with -tags modulo_testkinds offer the engine's test kinds (text, concat),
// for benchmarks that compare the engine with other pipeline tools.
func init() { stagetest.Register(stages.Default) }
