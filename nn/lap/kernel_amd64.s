//go:build amd64 && !purego

#include "textflag.h"

// func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL eaxArg+0(FP), AX
	MOVL ecxArg+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv() (eax, edx uint32)
TEXT ·xgetbv(SB), NOSPLIT, $0-8
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	MOVL DX, edx+4(FP)
	RET

// HMIN sets every lane of Z to the least lane of Z (T: scratch).
#define HMIN(Z, T) \
	VSHUFF64X2 $0x4e, Z, Z, T; \
	VMINPD     T, Z, Z; \
	VSHUFF64X2 $0xb1, Z, Z, T; \
	VMINPD     T, Z, Z; \
	VPERMILPD  $0x55, Z, T; \
	VMINPD     T, Z, Z

// func scanChunks(row *float64, row32 *float32, v, d *float64, path *int, free *uint8, cmin, cfmin *float64, n, i int, h, minVal, sgn float64) int
//
// kernel.scanGo with AVX-512, eight columns (a chunk) a step. A chunk none of whose d can
// improve costs a load of its float32 lower bounds (or float64 costs), v and d, and a
// compare; a chunk that improves is relaxed with the float64 costs and gets its minima,
// cmin and cfmin, recomputed. At the end, the least of the chunk minima picks the chunk
// holding the answer.
//
// Registers: AX column of the chunk, R10 columns in whole chunks, CX columns in the last,
// partial chunk; SI row, R11 row32, DI v, DX d, R8 path, R9 free, R12 cmin, R13 cfmin;
// Z10 i, Z11 h, Z12 minVal, Z13 +Inf, Z14 sgn; K6 the lanes of the chunk within n.
TEXT ·scanChunks(SB), NOSPLIT, $0-112
	MOVQ row+0(FP), SI
	MOVQ row32+8(FP), R11
	MOVQ v+16(FP), DI
	MOVQ d+24(FP), DX
	MOVQ path+32(FP), R8
	MOVQ free+40(FP), R9
	MOVQ cmin+48(FP), R12
	MOVQ cfmin+56(FP), R13
	MOVQ n+64(FP), R10
	VPBROADCASTQ i+72(FP), Z10
	VBROADCASTSD h+80(FP), Z11
	VBROADCASTSD minVal+88(FP), Z12
	VBROADCASTSD sgn+96(FP), Z14
	MOVQ $0x7ff0000000000000, BX
	VPBROADCASTQ BX, Z13
	MOVQ R10, CX
	ANDQ $7, CX
	ANDQ $-8, R10
	MOVL $0xff, BX
	KMOVB BX, K6
	XORQ AX, AX
	TESTQ R11, R11
	JNZ  f32Loop

f64Loop:
	CMPQ AX, R10
	JGE  tail
	VMOVUPD     (SI)(AX*8), Z6
	VFMADD213PD Z11, Z14, Z6       // sgn*c + h, exactly rounded as sgn = ±1
	VSUBPD      (DI)(AX*8), Z6, Z6 // r
	VCMPPD      $1, (DX)(AX*8), Z6, K1
	KORTESTB    K1, K1
	JNZ         update
	ADDQ        $8, AX
	JMP         f64Loop

f32Loop:
	CMPQ AX, R10
	JGE  tail
	VCVTPS2PD (R11)(AX*4), Z6
	VADDPD    Z11, Z6, Z6
	VSUBPD    (DI)(AX*8), Z6, Z6 // a lower bound of r
	VCMPPD    $1, (DX)(AX*8), Z6, K1
	KORTESTB  K1, K1
	JNZ       exact
	ADDQ      $8, AX
	JMP       f32Loop

exact:
	VMOVUPD     (SI)(AX*8), Z6
	VFMADD213PD Z11, Z14, Z6
	VSUBPD      (DI)(AX*8), Z6, Z6
	JMP         update

tail:
	TESTQ CX, CX
	JZ    reduce
	MOVL  $1, BX
	SHLL  CX, BX
	DECL  BX
	KMOVB BX, K6
	VMOVUPD.Z   (SI)(AX*8), K6, Z6
	VFMADD213PD Z11, Z14, Z6
	VMOVUPD.Z   (DI)(AX*8), K6, Z8
	VSUBPD      Z8, Z6, Z6

update: // Z6: r of the chunk at AX
	VMOVAPD   Z13, Z7
	VMOVUPD   (DX)(AX*8), K6, Z7 // d, +Inf past n
	VCMPPD    $1, Z7, Z6, K6, K1 // K1: r < d
	KORTESTB  K1, K1
	JZ        next
	VMOVUPD   Z6, K1, Z7
	VMOVUPD   Z6, K1, (DX)(AX*8)
	VMOVDQU64 Z10, K1, (R8)(AX*8)
	MOVQ      AX, BX
	SHRQ      $3, BX
	KMOVB     (R9)(BX*1), K2 // K2: free
	KANDB     K6, K2, K2
	VCMPPD    $2, Z12, Z6, K1, K3
	KANDB     K2, K3, K3
	KORTESTB  K3, K3 // an improved free column at r <= minVal?
	JNZ       exit
	VMOVAPD   Z13, Z9
	VMOVUPD   Z7, K2, Z9 // d of the free columns, +Inf elsewhere
	HMIN(Z7, Z8)
	HMIN(Z9, Z8)
	VMOVSD    X7, (R12)(BX*8)
	VMOVSD    X9, (R13)(BX*8)

next:
	ADDQ  $8, AX
	CMPQ  AX, R10
	JG    reduce // that was the partial chunk
	TESTQ R11, R11
	JNZ   f32Loop
	JMP   f64Loop

exit:
	KMOVB K3, BX
	BSFL  BX, BX
	ADDQ  AX, BX
	MOVQ  BX, ret+104(FP)
	VZEROUPPER
	RET

reduce:
	// Z0, Z2: the least of cmin and of cfmin, padded with +Inf to whole vectors.
	MOVQ n+64(FP), BX
	ADDQ $63, BX
	SHRQ $6, BX
	VMOVAPD Z13, Z0
	VMOVAPD Z13, Z2
	XORQ    CX, CX

rloop:
	VMINPD (R12)(CX*8), Z0, Z0
	VMINPD (R13)(CX*8), Z2, Z2
	ADDQ   $8, CX
	DECQ   BX
	JNZ    rloop
	HMIN(Z0, Z8)
	HMIN(Z2, Z8)
	// The first chunk whose minimum of free columns is the least, if one is; else the
	// first chunk whose minimum is.
	MOVQ     R12, SI
	XORQ     DX, DX
	VCMPPD   $0, Z2, Z0, K1
	KORTESTB K1, K1
	JZ       search
	MOVQ     R13, SI
	MOVQ     $1, DX

search:
	XORQ CX, CX
	MOVQ n+64(FP), R10
	ADDQ $63, R10
	SHRQ $6, R10
	SHLQ $3, R10 // entries of cmin and cfmin

sloop:
	VCMPPD   $0, (SI)(CX*8), Z0, K1
	KORTESTB K1, K1
	JNZ      found
	ADDQ     $8, CX
	CMPQ     CX, R10
	JLT      sloop
	MOVQ     $-1, ret+104(FP) // not found (cannot happen): chunk 0, where the caller finds nothing
	VZEROUPPER
	RET

found:
	KMOVB K1, BX
	BSFL  BX, BX
	ADDQ  CX, BX
	SHLQ  $1, BX
	ADDQ  DX, BX
	NOTQ  BX // -(2c+f)-1
	MOVQ  BX, ret+104(FP)
	VZEROUPPER
	RET

// func roundDown8(dst *float32, src *float64, n int, sgn float64)
TEXT ·roundDown8(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSD sgn+24(FP), Z1
	XORQ AX, AX

rdloop:
	VMULPD (SI)(AX*8), Z1, Z0
	VCVTPD2PS.RD_SAE Z0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ $8, AX
	CMPQ AX, CX
	JLT  rdloop
	VZEROUPPER
	RET
