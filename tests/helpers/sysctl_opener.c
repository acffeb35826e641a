// SPDX-License-Identifier: Apache-2.0
/*
 * Test helper: one open for writing through a chosen syscall, optionally
 * relative to a directory fd, then (if a value is given) exactly one write
 * through a chosen write syscall. Shells retry or wrap; tests need one call.
 *
 *   sysctl_opener [-c open|openat|openat2|creat] [-d DIR]
 *                 [-w write|pwrite64|writev|pwritev|pwritev2|sendfile] PATH [VALUE]
 *
 * Prints "open <errno name or ok>" and "write <bytes or errno name>".
 * -w sendfile writes VALUE with sendfile(2) (no write syscall sees it), then
 * write()s one byte to /dev/null on the same thread: the sysctl write's
 * result must stay unknown, not become that write's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static const char *ename(int e)
{
	switch (e) {
	case EROFS: return "EROFS";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case EINVAL: return "EINVAL";
	case ENOENT: return "ENOENT";
	default: return strerrorname_np(e) ? strerrorname_np(e) : "E?";
	}
}

int main(int argc, char **argv)
{
	const char *call = "openat", *dir = NULL, *wcall = "write";
	int opt, dfd = AT_FDCWD, fd;

	while ((opt = getopt(argc, argv, "c:d:w:")) != -1) {
		if (opt == 'c')
			call = optarg;
		else if (opt == 'd')
			dir = optarg;
		else if (opt == 'w')
			wcall = optarg;
		else
			return 2;
	}
	if (optind >= argc)
		return 2;
	const char *path = argv[optind], *value = optind + 1 < argc ? argv[optind + 1] : NULL;
	if (dir) {
		dfd = open(dir, O_RDONLY | O_DIRECTORY);
		if (dfd < 0) {
			perror(dir);
			return 2;
		}
	}
	if (!strcmp(call, "open"))
		fd = syscall(SYS_open, path, O_WRONLY | O_TRUNC);
	else if (!strcmp(call, "creat"))
		fd = syscall(SYS_creat, path, 0644);
	else if (!strcmp(call, "openat2")) {
		struct open_how how = {.flags = O_WRONLY | O_CLOEXEC};
		fd = syscall(SYS_openat2, dfd, path, &how, sizeof(how));
	} else
		fd = syscall(SYS_openat, dfd, path, O_WRONLY | O_TRUNC);
	if (fd < 0) {
		printf("open %s\n", ename(errno));
		return 1;
	}
	printf("open ok\n");
	if (!value)
		return 0;
	size_t n = strlen(value);
	struct iovec iov = {.iov_base = (void *)value, .iov_len = n};
	ssize_t r;
	if (!strcmp(wcall, "sendfile")) {
		int src = memfd_create("value", 0), null = open("/dev/null", O_WRONLY);
		if (src < 0 || null < 0 || write(src, value, n) != (ssize_t)n)
			return 2;
		off_t o = 0;
		r = sendfile(fd, src, &o, n);
		if (r < 0)
			printf("write %s\n", ename(errno));
		else
			printf("write %zd\n", r);
		return write(null, "x", 1) != 1;
	}
	if (!strcmp(wcall, "pwrite64"))
		r = pwrite(fd, value, n, 0);
	else if (!strcmp(wcall, "writev"))
		r = writev(fd, &iov, 1);
	else if (!strcmp(wcall, "pwritev"))
		r = pwritev(fd, &iov, 1, 0);
	else if (!strcmp(wcall, "pwritev2"))
		r = pwritev2(fd, &iov, 1, 0, 0);
	else
		r = write(fd, value, n);
	if (r < 0)
		printf("write %s\n", ename(errno));
	else
		printf("write %zd\n", r);
	return r < 0;
}
