package blas

import "golang.org/x/sys/cpu"

// EnvCoreType is the variable OpenBLAS reads, once, while it initialises, to
// override its CPU detection.
const EnvCoreType = "OPENBLAS_CORETYPE"

// EnvModuloCoreType forces the kernel modulo gives OpenBLAS. modulo does not obey an
// inherited OPENBLAS_CORETYPE: shells, CI images and tox configurations pass one along
// from other machines (this workplace's environment carries OPENBLAS_CORETYPE=Haswell,
// which halves SGEMM speed on its AVX-512 CPUs, and a value naming a newer CPU would
// crash with an illegal instruction). The kernel follows the CPU unless this is set.
const EnvModuloCoreType = "MODULO_OPENBLAS_CORETYPE"

// cpuFeatures is the subset of CPUID that decides the OpenBLAS kernel. It is
// a struct rather than direct reads of x/sys/cpu so tests can feed any CPU.
type cpuFeatures struct {
	AVX512F, AVX512BW, AVX512DQ, AVX512VL bool
	AVX2, FMA                             bool
}

// hostFeatures reads this CPU's features; x/sys/cpu already accounts for
// whether the OS saves the wide registers, which raw CPUID would not.
func hostFeatures() cpuFeatures {
	return cpuFeatures{
		AVX512F:  cpu.X86.HasAVX512F,
		AVX512BW: cpu.X86.HasAVX512BW,
		AVX512DQ: cpu.X86.HasAVX512DQ,
		AVX512VL: cpu.X86.HasAVX512VL,
		AVX2:     cpu.X86.HasAVX2,
		FMA:      cpu.X86.HasFMA,
	}
}

// pickCoreType names the OpenBLAS kernel family this CPU can run, or "" to
// leave OpenBLAS's own detection alone. "SkylakeX" needs exactly the AVX-512
// subsets its kernels use; "Haswell" needs AVX2 and FMA. Both names are known
// to every OpenBLAS since 0.2.20. On a CPU that OpenBLAS does recognise these
// are the SGEMM kernel families it would choose anyway (newer Intel targets
// such as Cooperlake extend SkylakeX with bf16 routines modulo does not use),
// so the override costs nothing there and saves 4.5x where detection fails.
// A user who knows better sets MODULO_OPENBLAS_CORETYPE.
func pickCoreType(f cpuFeatures) string {
	switch {
	case f.AVX512F && f.AVX512BW && f.AVX512DQ && f.AVX512VL:
		return "SkylakeX"
	case f.AVX2 && f.FMA:
		return "Haswell"
	default:
		return ""
	}
}

// scaleC applies C = beta*C, the whole of a GEMM when alpha or k is zero.
// Handling that case here, not in gonum or C, keeps both implementations from
// reading A and B, which BLAS promises not to touch then and which may be empty.
// beta == 0 overwrites C, so NaN garbage in C does not survive.
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}
