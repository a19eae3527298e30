// Package prefault maps the pages a modulo process is about to touch in a few system calls
// instead of one page fault each.
//
// A process pays for every page it touches for the first time with a fault, and on the
// virtual machines modulo is developed on (AMD EPYC, 2 vCPUs, a paravirtualised guest) a
// fault costs about 12 µs: touching one byte every 64 KiB of the 32 MB modulo binary (one
// fault each, the kernel maps 16 pages around every fault) took 6.7–9.2 ms, and
// madvise(MADV_POPULATE_READ) over the whole file 0.5–0.6 ms; 1,024 fresh anonymous pages,
// 11–14 ms touched and 0.8 ms populated (MADV_POPULATE_WRITE). A command that does little
// (`modulo run` of a pipeline with nothing to do, `modulo version`) spent most of its 20–25
// ms in such faults: the package initialisers of its dependencies (the S3 client's endpoint
// tables, the plotting fonts, compiled regular expressions) read code and tables spread over
// the binary and allocate 1.4 MB of heap before main runs.
//
// Imported by the command, it populates, before any other Go code runs (a C constructor, in
// builds with cgo), the executable's file-backed segments: code, read-only data and the
// initial contents of its data, when the page cache holds them (a binary it does not hold,
// on a cluster's network file system say, is only advised for read-ahead, and read as the
// faults ask for it). Then Heap, from the package's Go initialiser (which runs before most
// other packages', as it imports only early standard packages) and again first thing in
// main: up to heapAhead of the heap mapping from a new object on, the heap the program is
// about to grow into, and the small private anonymous mappings (the runtime's metadata, the
// C library's malloc arenas). All of it is best-effort: a kernel without MADV_POPULATE_*
// (before Linux 5.14) refuses the advice and the process faults the pages in as before.
// None of it changes memory contents: populated file pages hold the file, populated
// anonymous pages are the zeros a first touch would have found.
//
// Measured (AMD EPYC, 2 vCPUs, VM; 40 runs of each build, alternating, each with its own
// cache, the fastest; the host's speed moved between batches, so each step is compared with
// the one before it in the same batch), `modulo version`: 23.0 → 16.4 ms with the binary
// and the initialiser's heap. The no-op rerun of the 1,000 nodes of
// scripts/bench-snakemake.sh: 26.1–27.4 → 20.2–22.0 ms with those; 25.9–29.0 → 22.3–26.0 ms
// with Heap called again in main; 24.6–25.0 → 21.1–21.8 ms with the small anonymous
// mappings. Populating 2 MiB below the first object too, or forcing the heap's next 4 MiB
// into view with a ballast and a collection, gained nothing (the ballast lost 3 ms to the
// collection).
package prefault
