// SPDX-License-Identifier: GPL-2.0
/*
 * vrbfrag.c - fragment the guest's free memory on purpose, so that the
 * benchmark's I/O buffers are made of scattered 4 KiB pages, the same way
 * in every run.
 *
 * Usage (in the guest):  vrbfrag MIB &
 *
 * Why: a 128 KiB O_DIRECT request has as many data segments as its buffer
 * has runs of physically contiguous pages, and the drivers' work grows with
 * the number of segments.  Left alone, that number depends on luck: a fio
 * process that gets a transparent huge page has 1 segment per request, the
 * next one 20, the one after 32.  Measured that way, one driver "wins" a
 * 1 MiB job because it drew the huge pages.  With transparent huge pages
 * off (the guest script does that) and this program running, every page of
 * every buffer stands alone: 128 KiB is 32 segments, always.
 *
 * How: map MIB mebibytes, touch every page so that the kernel backs it,
 * then give every other page back (MADV_DONTNEED).  Fresh memory is handed
 * out mostly in physical order, so a freed page's buddy (its neighbour, in
 * the kernel's buddy allocator) is the page next to it, still held: the two
 * cannot merge again, and the kernel's free lists now hold MIB / 2 of
 * isolated single pages, which is where it takes single-page allocations
 * from first.  Each page fio faults in comes from there, with no free
 * neighbour.  (Where the pages were not in order, some pairs merge back;
 * the report's segments/request column shows how well this worked.)  The
 * program then sleeps, holding the other half, until the guest powers
 * off.
 *
 * It prints "vrbfrag: ready" once done, for the script to wait on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096UL

int main(int argc, char **argv)
{
	unsigned long i, size, npages;
	char *mem;

	if (argc != 2 || atol(argv[1]) <= 0) {
		fprintf(stderr, "usage: vrbfrag MIB\n");
		return 2;
	}
	size = (unsigned long)atol(argv[1]) << 20;
	npages = size / PAGE;

	mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("vrbfrag: mmap");
		return 1;
	}
	/* No huge pages here either (before the first touch): 4 KiB ones. */
	madvise(mem, size, MADV_NOHUGEPAGE);
	for (i = 0; i < npages; i++)
		mem[i * PAGE] = 1;	/* the kernel backs each page now */
	for (i = 0; i < npages; i += 2)
		madvise(mem + i * PAGE, PAGE, MADV_DONTNEED);

	printf("vrbfrag: ready, %lu isolated free pages\n", npages / 2);
	fflush(stdout);
	for (;;)
		pause();
}
