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
// Imported for its side effects by the command (`import _`), it populates, before any other
// Go code runs (a C constructor, in builds with cgo), the executable's file-backed segments:
// code, read-only data and the initial contents of its data, when the page cache holds them
// (a binary it does not hold, on a cluster's network file system say, is only advised for
// read-ahead, and read as the faults ask for it); and, from its Go initialiser,
// which runs before most other packages' (it imports only early standard packages), up to
// heapAhead of the heap mapping that holds the first objects: the heap grows into it during
// the other initialisers. The command calls Heap again first thing in main, for the heap it
// grows into after them. Both are best-effort: a kernel without MADV_POPULATE_* (before
// Linux 5.14) refuses the advice and the process faults the pages in as before. Neither
// changes memory contents: populated file pages hold the file, populated anonymous pages
// are the zeros a first touch would have found.
//
// Measured on `modulo version` (AMD EPYC, 2 vCPUs, VM; 40 runs, alternating, same build
// otherwise): fastest 23.0 → 16.4 ms, median 25.4 → 19.9 ms; the no-op rerun of the
// 1,000 nodes of scripts/bench-snakemake.sh, 40 runs of each build alternating, each with
// its own cache: fastest 26.1–27.4 → 20.2–22.0 ms, median 27.7–28.9 → 22.5–23.6 ms.
// Calling Heap again at main's start: fastest of 40 alternating 25.9–29.0 → 22.3–26.0 ms,
// in a slower hour than the figures above. Populating 2 MiB below the first object too, or
// forcing the heap's next 4 MiB into view with a ballast and a collection, gained nothing
// (the ballast lost 3 ms to the collection).
package prefault
