// SPDX-License-Identifier: Apache-2.0
/*
 * late_unshare OUTFILE: a task that exists before the tracer starts. On
 * SIGUSR1 it unshare()s a new netns, then setns()es back to the one it
 * started in, and writes "<new netns inode> <original netns inode>\n" to
 * OUTFILE; then it waits to be killed (keeping its pid alive for the test).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static unsigned long inode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (unsigned long)st.st_ino : 0;
}

int main(int argc, char **argv)
{
	sigset_t block, old;
	int orig;
	unsigned long a, b;
	FILE *out;

	if (argc != 2) {
		fprintf(stderr, "usage: late_unshare OUTFILE\n");
		return 2;
	}
	signal(SIGUSR1, on_usr1);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);
	orig = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (orig < 0)
		return 1;
	while (!go)
		sigsuspend(&old);
	if (unshare(CLONE_NEWNET) != 0) {
		perror("unshare");
		return 1;
	}
	a = inode_of("/proc/thread-self/ns/net");
	if (setns(orig, CLONE_NEWNET) != 0) {
		perror("setns");
		return 1;
	}
	b = inode_of("/proc/thread-self/ns/net");
	out = fopen(argv[1], "w");
	if (!out)
		return 1;
	fprintf(out, "%lu %lu\n", a, b);
	fclose(out);
	for (;;)
		pause();
}
