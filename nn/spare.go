package nn

import (
	"runtime"
	"sync"
)

// While a convolutional network trains or is evaluated, GOMAXPROCS is one more than it
// was: a spare P, idle while the goroutines that compute are inside nn/conv's C kernels.
//
// Go's monitor thread takes the P of a goroutine that has been in a C call for a tick (20 µs
// at first) and hands it to another thread, unless some P is idle or spinning. With every P
// in a kernel, as in a step whose two parts run side by side on two cores, each of the
// thousands of kernel calls of a step was followed by a thread woken to spin and parked
// again and by the monitor waking every 20 µs, all on the two cores the kernels need; the
// call then had to take a P back on its way out. With a P to spare, the monitor leaves a
// call its P for up to 10 ms, longer than any kernel call of a pass takes.
// BenchmarkStepConv on 2 cores (AMD EPYC, Zen 5): ResNet-20 142.6/144.4/148.4 → 131.0/
// 133.4/134.6 ms a step, VGG-11 38.3/38.3/38.9 → 31.2/32.1/32.1 ms (GOMAXPROCS 2 → 3).
// An MLP's epoch was no faster (BenchmarkEpochMNIST512, best of 3: 1.10–1.23 s → 1.15–
// 1.19 s), so MLPs train as they did.
//
// The engine gives the nodes running at once no more threads than there are cores, so one
// spare P is enough whatever the number of networks training: holds nest, the first raises
// GOMAXPROCS and the last puts it back. Go code that runs meanwhile (data loading,
// progress, other nodes' planning) may use the extra P too, which at worst shares a core.
// Once set, GOMAXPROCS no longer follows changes of the cgroup's CPU limit (Go's default);
// a modulo process, or a Slurm job's, keeps the limit it started with.
var spare struct {
	mu    sync.Mutex
	holds int
	base  int // GOMAXPROCS before the first hold
}

// holdSpareP raises GOMAXPROCS by one, if no other hold has, until release is called.
func holdSpareP() (release func()) {
	spare.mu.Lock()
	defer spare.mu.Unlock()
	if spare.holds == 0 {
		spare.base = runtime.GOMAXPROCS(0)
		runtime.GOMAXPROCS(spare.base + 1)
	}
	spare.holds++
	return sync.OnceFunc(func() {
		spare.mu.Lock()
		defer spare.mu.Unlock()
		spare.holds--
		if spare.holds == 0 {
			runtime.GOMAXPROCS(spare.base)
		}
	})
}
