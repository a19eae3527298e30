// The executable's segments populated before the Go runtime starts: see doc.go.

#define _GNU_SOURCE
#include <link.h>
#include <sys/mman.h>
#include <stdint.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

// moduloPrefaultSegments counts the segments the constructor populated (for the tests).
int moduloPrefaultSegments;

// populateLoads populates the file-backed part of every loadable segment of the first object
// dl_iterate_phdr reports, which is the executable. Writable segments are populated for
// reading only: their pages map the file until written, so the writes that follow fault as
// they would have, and nothing is copied that the process does not write.
static int populateLoads(struct dl_phdr_info *info, size_t size, void *data) {
	(void)size;
	(void)data;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || ph->p_filesz == 0) {
			continue;
		}
		uintptr_t start = (info->dlpi_addr + ph->p_vaddr) & ~(uintptr_t)4095;
		uintptr_t end = info->dlpi_addr + ph->p_vaddr + ph->p_filesz;
		if (madvise((void *)start, end - start, MADV_POPULATE_READ) == 0) {
			moduloPrefaultSegments++;
		}
	}
	return 1; // the executable only
}

__attribute__((constructor)) static void moduloPrefault(void) {
	dl_iterate_phdr(populateLoads, 0);
}
