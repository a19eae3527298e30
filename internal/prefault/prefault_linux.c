// The executable's segments populated before the Go runtime starts: see doc.go.

#define _GNU_SOURCE
#include <link.h>
#include <sys/mman.h>
#include <stdint.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

// moduloPrefaultSegments counts the segments the constructor populated (for the tests).
int moduloPrefaultSegments;

// cached reports whether nine in ten of the pages of [start, end) or more are in the page
// cache (mincore), so that populating them maps them rather than reads the file. A binary
// the page cache does not hold (just installed, or on a cluster's network file system) is
// better read as the faults ask for it: populating would read all of it, in this thread,
// before the program starts.
static int cached(uintptr_t start, uintptr_t end, size_t page) {
	static unsigned char vec[4096];
	size_t pages = 0, resident = 0;
	for (uintptr_t p = start; p < end; p += sizeof vec * page) {
		size_t n = (end - p + page - 1) / page;
		if (n > sizeof vec) {
			n = sizeof vec;
		}
		if (mincore((void *)p, n * page, vec) != 0) {
			return 0;
		}
		for (size_t i = 0; i < n; i++) {
			resident += vec[i] & 1;
		}
		pages += n;
	}
	return resident * 10 >= pages * 9;
}

// populateLoads populates the file-backed part of every loadable segment of the first object
// dl_iterate_phdr reports, which is the executable. Writable segments are populated for
// reading only: their pages map the file until written, so the writes that follow fault as
// they would have, and nothing is copied that the process does not write. A segment mostly
// missing from the page cache is only advised (MADV_WILLNEED: read ahead, without waiting).
static int populateLoads(struct dl_phdr_info *info, size_t size, void *data) {
	(void)size;
	(void)data;
	size_t page = (size_t)getpagesize();
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || ph->p_filesz == 0) {
			continue;
		}
		uintptr_t start = (info->dlpi_addr + ph->p_vaddr) & ~(uintptr_t)(page - 1);
		uintptr_t end = info->dlpi_addr + ph->p_vaddr + ph->p_filesz;
		if (!cached(start, end, page)) {
			madvise((void *)start, end - start, MADV_WILLNEED);
			continue;
		}
		if (madvise((void *)start, end - start, MADV_POPULATE_READ) == 0) {
			moduloPrefaultSegments++;
		}
	}
	return 1; // the executable only
}

__attribute__((constructor)) static void moduloPrefault(void) {
	dl_iterate_phdr(populateLoads, 0);
}
