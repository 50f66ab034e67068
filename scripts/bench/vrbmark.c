// SPDX-License-Identifier: GPL-2.0
/*
 * vrbmark.c - guest side of the instruction-count windows: snapshot some
 * counter files, open a window of the insncount plugin, sleep, close it,
 * snapshot the files again.
 *
 * Usage (in the guest):  vrbmark SECONDS FILE...
 *
 * Prints, for each FILE, its contents before and after the window:
 *
 *	@@ before /sys/block/vda/stat
 *	<contents>
 *	@@ after /sys/block/vda/stat
 *	<contents>
 *
 * The files are read right before the start mark and right after the stop
 * mark, so the deltas of e.g. /sys/block/X/stat (I/Os completed) cover the
 * same stretch of time as the instruction counts.  Reading them is done
 * outside the window, so their cost is not counted.
 *
 * The marks are two no-op instructions that the plugin recognises by their
 * bytes (scripts/bench/insncount.c).  Without the plugin they do nothing.
 * Built static on the host: the guest has no compiler and no libc to spare.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_FILES 16
#define SNAP_SIZE 65536

/* xchg %bx,%bx: the plugin clears its counters (window start). */
static inline void mark_start(void)
{
	asm volatile(".byte 0x66, 0x87, 0xdb" ::: "memory");
}

/* xchg %cx,%cx: the plugin prints its counters (window stop). */
static inline void mark_stop(void)
{
	asm volatile(".byte 0x66, 0x87, 0xc9" ::: "memory");
}

/* Read the whole of path into buf (NUL-terminated); "" on error. */
static void snapshot(const char *path, char *buf)
{
	ssize_t n;
	size_t len = 0;
	int fd;

	buf[0] = '\0';
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return;
	while (len < SNAP_SIZE - 1) {
		n = read(fd, buf + len, SNAP_SIZE - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	close(fd);
}

static void print_snap(const char *when, const char *path, const char *buf)
{
	size_t len = strlen(buf);

	printf("@@ %s %s\n%s%s", when, path, buf,
	       len && buf[len - 1] != '\n' ? "\n" : "");
}

int main(int argc, char **argv)
{
	static char before[MAX_FILES][SNAP_SIZE], after[MAX_FILES][SNAP_SIZE];
	struct timespec ts;
	int i, nfiles;
	double secs;

	if (argc < 2 || argc - 2 > MAX_FILES) {
		fprintf(stderr, "usage: vrbmark SECONDS [FILE...] (at most %d)\n",
			MAX_FILES);
		return 2;
	}
	secs = atof(argv[1]);
	nfiles = argc - 2;
	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - ts.tv_sec) * 1e9);

	for (i = 0; i < nfiles; i++)
		snapshot(argv[i + 2], before[i]);
	mark_start();
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	mark_stop();
	for (i = 0; i < nfiles; i++)
		snapshot(argv[i + 2], after[i]);

	for (i = 0; i < nfiles; i++) {
		print_snap("before", argv[i + 2], before[i]);
		print_snap("after", argv[i + 2], after[i]);
	}
	return 0;
}
