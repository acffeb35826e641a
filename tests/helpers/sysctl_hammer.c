// SPDX-License-Identifier: Apache-2.0
/* Test/bench load: waits for a line on stdin, then pread()s a sysctl N times
 * at offset 0 (one sysctl_read each) and prints how many succeeded. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/proc/sys/net/ipv4/tcp_keepalive_time";
	long n = argc > 2 ? atol(argv[2]) : 10000;
	char buf[64], go[8];
	long ok = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		perror(path);
		return 1;
	}
	if (read(0, go, sizeof go) < 0)
		return 1;
	for (long i = 0; i < n; i++)
		if (pread(fd, buf, sizeof buf, 0) > 0)
			ok++;
	printf("%ld\n", ok);
	return 0;
}
