// SPDX-License-Identifier: Apache-2.0
/*
 * Test helper: replays the kernel write corpus (tests/corpus/kernel_writes.tsv)
 * in the namespaces it runs in, one case at a time:
 *   1. the setup value (if any) written at offset 0 and closed (a known start),
 *   2. one open, then exactly one write() (offset 0) or pwrite() (offset > 0)
 *      of the case's bytes, nothing else,
 *   3. the value read back.
 * Prints one line per case: "ID<TAB>RESULT<TAB>BEFORE<TAB>AFTER" where RESULT
 * is "ok:N" (bytes taken) or an errno name, and BEFORE/AFTER are what /proc
 * printed before and after the write, blanks collapsed to one space. Shells retry short writes and add newlines;
 * the corpus needs the single syscall it names.
 *
 *   sysctl_write_cases [-g GROUP] [-s SECONDS] FILE
 * -g: only the cases of that group (column 2; default "ns"); -s: stay alive
 * that long after the last case (the read-back goes through the writer).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static size_t unescape(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	for (; *in && n < cap; ++in) {
		if (*in != '\\') {
			out[n++] = *in;
			continue;
		}
		++in;
		if (*in == 'n')
			out[n++] = '\n';
		else if (*in == 't')
			out[n++] = '\t';
		else if (*in == '0')
			out[n++] = '\0';
		else if (*in == 'x' && in[1] && in[2]) {
			char hex[3] = {in[1], in[2], 0};
			out[n++] = (char)strtol(hex, NULL, 16);
			in += 2;
		} else if (*in)
			out[n++] = *in;
		else
			break;
	}
	return n;
}

static void path_of(const char *dotted, char *out, size_t cap)
{
	snprintf(out, cap, "/proc/sys/%s", dotted);
	for (char *p = out + strlen("/proc/sys/"); *p; ++p)
		if (*p == '.')
			*p = '/';
}

static void read_collapsed(const char *path, char *out, size_t cap)
{
	char buf[8192];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	if (n < 0) {
		snprintf(out, cap, "<%s>", strerrorname_np(errno));
		return;
	}
	size_t o = 0;
	int blank = 0;
	for (ssize_t i = 0; i < n && o + 2 < cap; ++i) {
		char c = buf[i];
		if (c == ' ' || c == '\t' || c == '\n') {
			blank = o > 0;
			continue;
		}
		if (blank)
			out[o++] = ' ';
		blank = 0;
		out[o++] = c;
	}
	out[o] = 0;
}

static int write_at(const char *path, const char *v, size_t n, long pos, char *res, size_t cap)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0) {
		snprintf(res, cap, "open:%s", strerrorname_np(errno));
		return -1;
	}
	ssize_t r = pos ? pwrite(fd, v, n, pos) : write(fd, v, n);
	if (r < 0)
		snprintf(res, cap, "%s", strerrorname_np(errno));
	else
		snprintf(res, cap, "ok:%zd", r);
	close(fd);
	return r < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	const char *group = "ns";
	double stay = 0;
	int opt;
	while ((opt = getopt(argc, argv, "g:s:")) != -1) {
		if (opt == 'g')
			group = optarg;
		else if (opt == 's')
			stay = atof(optarg);
		else
			return 2;
	}
	if (optind >= argc)
		return 2;
	FILE *f = fopen(argv[optind], "r");
	if (!f) {
		perror(argv[optind]);
		return 2;
	}
	char line[4096];
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		/* id group sysctl setup old pos value result after source */
		char *col[7] = {0};
		char *p = line;
		for (int i = 0; i < 7 && p; ++i)
			col[i] = strsep(&p, "\t");
		if (!col[6]) {
			fprintf(stderr, "bad line: %s\n", line);
			return 2;
		}
		if (strcmp(col[1], group))
			continue;
		char path[512], v[1024], res[64], before[4096], after[4096];
		path_of(col[2], path, sizeof(path));
		if (strcmp(col[3], "-")) {
			size_t n = unescape(col[3], v, sizeof(v));
			if (write_at(path, v, n, 0, res, sizeof(res))) {
				fprintf(stderr, "%s: setup failed: %s\n", col[0], res);
				return 1;
			}
		}
		read_collapsed(path, before, sizeof(before));
		size_t n = unescape(col[6], v, sizeof(v));
		write_at(path, v, n, atol(col[5]), res, sizeof(res));
		read_collapsed(path, after, sizeof(after));
		printf("%s\t%s\t%s\t%s\n", col[0], res, before, after);
		fflush(stdout);
	}
	fclose(f);
	if (stay > 0)
		usleep((useconds_t)(stay * 1e6));
	return 0;
}
