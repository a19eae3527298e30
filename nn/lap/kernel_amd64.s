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

// func scanBlocks(row, v, d *float64, path *int32, free *uint8, bmin, bfmin *float64, n, i int, h, sgn float64) int
//
// kernel.scanGo with AVX-512, eight columns (a chunk) a step, without a branch: relax the
// chunk and fold its distances into Z0, the least per lane, and Z2, the least per lane over
// the free columns. Every 64 columns (a block) Z0 and Z2 are stored in bmin and bfmin and
// reset. At the end the least of the block minima gives the least distance, the first
// block that holds it, and the first column of that block at it.
//
// Registers: AX column, R10 columns in whole chunks, CX columns in the last, partial
// chunk; SI row, DI v, DX d, R8 path, R9 free, R12 bmin, R13 bfmin (both advancing);
// Y10 i (int32), Z11 h, Z13 +Inf, Z14 sgn; K6 the lanes of the partial chunk. The row is
// prefetched 4 KiB ahead: a large matrix is read from memory, one random row a scan.
TEXT ·scanBlocks(SB), NOSPLIT, $0-96
	MOVQ row+0(FP), SI
	MOVQ v+8(FP), DI
	MOVQ d+16(FP), DX
	MOVQ path+24(FP), R8
	MOVQ free+32(FP), R9
	MOVQ bmin+40(FP), R12
	MOVQ bfmin+48(FP), R13
	MOVQ n+56(FP), R10
	VPBROADCASTD i+64(FP), Y10
	VBROADCASTSD h+72(FP), Z11
	VBROADCASTSD sgn+80(FP), Z14
	MOVQ $0x7ff0000000000000, BX
	VPBROADCASTQ BX, Z13
	VMOVAPD Z13, Z0
	VMOVAPD Z13, Z2
	MOVQ R10, CX
	ANDQ $7, CX
	ANDQ $-8, R10
	XORQ AX, AX

loop:
	CMPQ AX, R10
	JGE  partial
	PREFETCHT0  4096(SI)(AX*8)
	VMOVUPD     (SI)(AX*8), Z6
	VFMADD213PD Z11, Z14, Z6       // sgn*c + h, exactly rounded as sgn = ±1
	VSUBPD      (DI)(AX*8), Z6, Z6 // r
	VMOVUPD     (DX)(AX*8), Z7
	VCMPPD      $1, Z7, Z6, K1     // K1: r < d
	VMOVUPD     Z6, K1, Z7
	VMOVUPD     Z7, (DX)(AX*8)
	VMOVDQU32   Y10, K1, (R8)(AX*4)
	KMOVB       (R9), K2           // K2: free
	VMINPD      Z7, Z0, Z0
	VMINPD      Z7, Z2, K2, Z2
	ADDQ        $8, AX
	INCQ        R9
	TESTQ       $63, AX
	JNZ         loop
	VMOVUPD     Z0, (R12)
	VMOVUPD     Z2, (R13)
	ADDQ        $64, R12
	ADDQ        $64, R13
	VMOVAPD     Z13, Z0
	VMOVAPD     Z13, Z2
	JMP         loop

partial:
	TESTQ CX, CX
	JZ    last
	MOVL  $1, BX
	SHLL  CX, BX
	DECL  BX
	KMOVB BX, K6
	VMOVUPD.Z   (SI)(AX*8), K6, Z6
	VFMADD213PD Z11, Z14, Z6
	VMOVUPD.Z   (DI)(AX*8), K6, Z8
	VSUBPD      Z8, Z6, Z6
	VMOVAPD     Z13, Z7
	VMOVUPD     (DX)(AX*8), K6, Z7 // d, +Inf past n
	VCMPPD      $1, Z7, Z6, K6, K1
	VMOVUPD     Z6, K1, Z7
	VMOVUPD     Z7, K6, (DX)(AX*8)
	VMOVDQU32   Y10, K1, (R8)(AX*4)
	KMOVB       (R9), K2
	KANDB       K6, K2, K2
	VMINPD      Z7, Z0, Z0
	VMINPD      Z7, Z2, K2, Z2
	JMP         store

last:
	TESTQ $63, AX
	JZ    reduce // the last block is stored

store:
	VMOVUPD Z0, (R12)
	VMOVUPD Z2, (R13)

reduce:
	MOVQ n+56(FP), R10
	MOVQ R10, CX
	ADDQ $63, CX
	SHRQ $6, CX // blocks
	MOVQ bmin+40(FP), R12
	MOVQ bfmin+48(FP), R13
	MOVQ free+32(FP), R9
	VMOVAPD Z13, Z0
	VMOVAPD Z13, Z2
	XORQ AX, AX

rloop:
	VMINPD (R12)(AX*1), Z0, Z0
	VMINPD (R13)(AX*1), Z2, Z2
	ADDQ   $64, AX
	DECQ   CX
	JNZ    rloop
	HMIN(Z0, Z8)
	HMIN(Z2, Z8)
	VCMPPD   $0, Z13, Z0, K1
	KORTESTB K1, K1
	JNZ      none // every distance is +Inf
	// Search the free columns if one is at the least distance, else all.
	MOVQ     R12, SI
	XORQ     R11, R11
	VCMPPD   $0, Z2, Z0, K1
	KORTESTB K1, K1
	JZ       bsearch
	MOVQ     R13, SI
	MOVQ     $1, R11

bsearch:
	XORQ AX, AX // the block's first column

bloop:
	CMPQ     AX, R10
	JGE      none
	VCMPPD   $0, (SI), Z0, K1
	KORTESTB K1, K1
	JNZ      cloop
	ADDQ     $64, AX
	ADDQ     $64, SI
	JMP      bloop

cloop: // the columns of the block, chunk by chunk
	CMPQ     AX, R10
	JGE      none
	MOVQ     R10, CX
	SUBQ     AX, CX
	MOVL     $0xff, BX
	CMPQ     CX, $8
	JGE      full
	MOVL     $1, BX
	SHLL     CX, BX
	DECL     BX

full:
	KMOVB    BX, K7 // K7: the chunk's columns within n
	VCMPPD   $0, (DX)(AX*8), Z0, K7, K1
	MOVQ     AX, BX
	SHRQ     $3, BX
	KMOVB    (R9)(BX*1), K2
	TESTQ    R11, R11
	JZ       anyCol
	KANDB    K2, K1, K1

anyCol:
	KORTESTB K1, K1
	JNZ      found
	ADDQ     $8, AX
	TESTQ    $63, AX
	JNZ      cloop

none:
	MOVQ $-1, ret+88(FP)
	VZEROUPPER
	RET

found:
	KMOVB K1, BX
	BSFL  BX, BX
	ADDQ  AX, BX
	MOVQ  BX, ret+88(FP)
	VZEROUPPER
	RET

