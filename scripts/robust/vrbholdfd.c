// SPDX-License-Identifier: GPL-2.0
/*
 * vrbholdfd.c - hold a block device (and any sysfs or debugfs files) open
 * across the removal of the device behind it, then use every fd.
 *
 * Usage (in the guest):  vrbholdfd DEV TRIGGER [FILE...]
 *
 * Opens DEV (O_RDONLY | O_DIRECT) and each FILE, does every operation
 * once while the device is there, prints "vrbholdfd: ready", then waits
 * (up to 120 s) until the file TRIGGER exists: meanwhile the test removes
 * the device (unbind, sysfs remove, hot-unplug).  Then it does every
 * operation again through the same fds and closes them.  One line per
 * operation:
 *
 *	<phase> <op>: ok <value>	or	<phase> <op>: err <ERRNO NAME>
 *
 * with phase "before" or "after".  The test decides what is acceptable:
 * after removal an operation may still work or fail with ENXIO, EIO or
 * ENODEV, but must never return what freed memory happens to hold.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/hdreg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *errname(int e)
{
	switch (e) {
	case ENXIO: return "ENXIO";
	case EIO: return "EIO";
	case ENODEV: return "ENODEV";
	case ENOENT: return "ENOENT";
	case EBUSY: return "EBUSY";
	case EINVAL: return "EINVAL";
	case ENOTTY: return "ENOTTY";
	case EACCES: return "EACCES";
	case EBADF: return "EBADF";
	default: return strerror(e);
	}
}

static void err(const char *phase, const char *op)
{
	printf("%s %s: err %s\n", phase, op, errname(errno));
}

static void use_disk(const char *phase, int fd, void *buf)
{
	struct hd_geometry geo;
	unsigned long long size;
	int ssz, ro;
	ssize_t n;

	if (ioctl(fd, HDIO_GETGEO, &geo) == 0)
		printf("%s getgeo: ok %u/%u/%u\n", phase, geo.cylinders,
		       geo.heads, geo.sectors);
	else
		err(phase, "getgeo");
	if (ioctl(fd, BLKGETSIZE64, &size) == 0)
		printf("%s getsize64: ok %llu\n", phase, size);
	else
		err(phase, "getsize64");
	if (ioctl(fd, BLKSSZGET, &ssz) == 0)
		printf("%s sszget: ok %d\n", phase, ssz);
	else
		err(phase, "sszget");
	if (ioctl(fd, BLKROGET, &ro) == 0)
		printf("%s roget: ok %d\n", phase, ro);
	else
		err(phase, "roget");
	n = pread(fd, buf, 4096, 4096);
	if (n >= 0)
		printf("%s pread: ok %zd\n", phase, n);
	else
		err(phase, "pread");
	if (fsync(fd) == 0)
		printf("%s fsync: ok 0\n", phase);
	else
		err(phase, "fsync");
}

static void use_file(const char *phase, int fd, const char *path)
{
	char buf[256];
	ssize_t n;

	if (lseek(fd, 0, SEEK_SET) < 0) {
		err(phase, path);
		return;
	}
	n = read(fd, buf, sizeof(buf));
	if (n >= 0)
		printf("%s %s: ok %zd bytes\n", phase, path, n);
	else
		err(phase, path);
}

int main(int argc, char **argv)
{
	int fd, fds[8], nfiles, i, tries;
	struct stat st;
	void *buf;

	if (argc < 3 || argc - 3 > 8) {
		fprintf(stderr, "usage: vrbholdfd DEV TRIGGER [FILE...] (at most 8)\n");
		return 2;
	}
	if (posix_memalign(&buf, 4096, 4096))
		return 1;
	fd = open(argv[1], O_RDONLY | O_DIRECT);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	nfiles = argc - 3;
	for (i = 0; i < nfiles; i++) {
		fds[i] = open(argv[3 + i], O_RDONLY);
		if (fds[i] < 0) {
			perror(argv[3 + i]);
			return 1;
		}
	}

	use_disk("before", fd, buf);
	for (i = 0; i < nfiles; i++)
		use_file("before", fds[i], argv[3 + i]);
	printf("vrbholdfd: ready\n");
	fflush(stdout);

	for (tries = 0; stat(argv[2], &st) != 0; tries++) {
		if (tries > 1200) {
			printf("vrbholdfd: no trigger after 120 s\n");
			return 1;
		}
		usleep(100000);
	}

	use_disk("after", fd, buf);
	for (i = 0; i < nfiles; i++)
		use_file("after", fds[i], argv[3 + i]);
	for (i = 0; i < nfiles; i++)
		if (close(fds[i]))
			err("after", "close-file");
	if (close(fd) == 0)
		printf("after close: ok 0\n");
	else
		err("after", "close");
	printf("vrbholdfd: done\n");
	return 0;
}
