// SPDX-License-Identifier: Apache-2.0
/*
 * Load generator for bench/run.sh: runs one workload N times after a warm-up
 * and prints "<wall ns per op> <ops> <cpu ns per op>". The CPU time is the
 * thread's own (CLOCK_THREAD_CPUTIME_ID, user + kernel, so BPF programs run in
 * its syscalls count): on a shared, busy machine it is not inflated by
 * preemption the way wall time is. Workloads that write sysctls or need a
 * read-only mount set up a private namespace first: the host is never touched.
 *
 *   loadgen read-pread N | read-cat N | write-netns N | open-close N |
 *           write-devnull N | open-erofs N | netns-create N | stream SECONDS
 *   loadgen rate WORKLOAD OPS_PER_SECOND SECONDS
 *
 * `rate` paces a workload at a fixed rate (bench/curves.sh, bench/soak.sh):
 * every millisecond it issues what the schedule owes, no warm-up, and prints
 * "<ops> <cpu ns per op> <achieved ops per second>"; a rate the machine
 * cannot keep shows as a lower achieved rate, never as a silent cut.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KEEPALIVE "/proc/sys/net/ipv4/tcp_keepalive_time"

static double clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static double cpu_ns(void)
{
	return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int fd_ka = -1, fd_null = -1;
static char ro_path[64];

static void op_read_pread(void)
{
	char buf[32];

	if (pread(fd_ka, buf, sizeof buf, 0) <= 0)
		die("pread");
}

static void op_read_cat(void)
{
	char buf[32];
	int fd = open(KEEPALIVE, O_RDONLY);

	if (fd < 0 || read(fd, buf, sizeof buf) <= 0)
		die("cat");
	while (read(fd, buf, sizeof buf) > 0) /* the EOF read, like cat */
		;
	close(fd);
}

static void op_write_netns(void)
{
	if (pwrite(fd_ka, "7200", 4, 0) != 4)
		die("pwrite");
}

static void op_open_close(void)
{
	int fd = open("/tmp/sysctlscope-bench-file", O_RDONLY);

	if (fd < 0)
		die("open");
	close(fd);
}

static void op_write_devnull(void)
{
	if (write(fd_null, "x", 1) != 1)
		die("write");
}

static void op_open_erofs(void)
{
	int fd = open(ro_path, O_WRONLY | O_TRUNC);

	if (fd >= 0)
		die("open on a read-only mount succeeded");
}

static void op_netns_create(void)
{
	pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0);
	int st;

	if (pid < 0)
		die("clone");
	if (pid == 0)
		_exit(0);
	waitpid(pid, &st, 0);
}

int main(int argc, char **argv)
{
	void (*op)(void) = NULL;
	const char *w;
	long n, warm, i;
	double t0, t1, c0, c1;

	double rate = 0, secs = 0;

	if (argc == 5 && !strcmp(argv[1], "rate")) {
		rate = atof(argv[3]);
		secs = atof(argv[4]);
		if (rate <= 0 || secs <= 0) {
			fprintf(stderr, "loadgen: rate and seconds must be positive\n");
			return 2;
		}
		argv++;
		argc = 3;
		argv[2] = "1";
	}
	if (argc != 3) {
		fprintf(stderr, "usage: loadgen WORKLOAD N | loadgen rate WORKLOAD OPS_PER_SECOND SECONDS\n");
		return 2;
	}
	w = argv[1];
	n = atol(argv[2]);
	if (n <= 0) {
		fprintf(stderr, "loadgen: N must be positive\n");
		return 2;
	}
	if (!strcmp(w, "read-pread") || !strcmp(w, "stream")) {
		fd_ka = open(KEEPALIVE, O_RDONLY);
		op = op_read_pread;
	} else if (!strcmp(w, "read-cat")) {
		op = op_read_cat;
	} else if (!strcmp(w, "write-netns")) {
		if (unshare(CLONE_NEWNET))
			die("unshare(CLONE_NEWNET)");
		fd_ka = open(KEEPALIVE, O_WRONLY);
		op = op_write_netns;
	} else if (!strcmp(w, "open-close")) {
		close(open("/tmp/sysctlscope-bench-file", O_CREAT | O_WRONLY, 0600));
		op = op_open_close;
	} else if (!strcmp(w, "write-devnull")) {
		fd_null = open("/dev/null", O_WRONLY);
		op = op_write_devnull;
	} else if (!strcmp(w, "open-erofs")) {
		if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
			die("private mount namespace");
		snprintf(ro_path, sizeof ro_path, "/tmp/sysctlscope-bench-ro-%d", getpid());
		mkdir(ro_path, 0700);
		if (mount("tmpfs", ro_path, "tmpfs", MS_RDONLY, NULL))
			die("mount ro tmpfs");
		strcat(ro_path, "/f");
		op = op_open_erofs;
	} else if (!strcmp(w, "netns-create")) {
		op = op_netns_create;
	}
	if (!op || (fd_ka < 0 && (op == op_read_pread || op == op_write_netns))) {
		fprintf(stderr, "loadgen: unknown workload or setup failed: %s\n", w);
		return 2;
	}
	if (rate > 0) {
		struct timespec tick = {0, 1000000};
		long ops = 0, due;

		t0 = now_ns();
		c0 = cpu_ns();
		for (;;) {
			double el = now_ns() - t0;

			if (el >= secs * 1e9)
				break;
			due = (long)(el * rate / 1e9) + 1;
			while (ops < due) {
				op();
				ops++;
			}
			nanosleep(&tick, NULL);
		}
		c1 = cpu_ns();
		t1 = now_ns();
		printf("%ld %.1f %.1f\n", ops, ops ? (c1 - c0) / ops : 0, ops / ((t1 - t0) / 1e9));
		return 0;
	}
	if (!strcmp(w, "stream")) {
		/* Max-rate reads for n seconds, checking the clock every 4096 ops. */
		double end = now_ns() + n * 1e9;
		long ops = 0;

		t0 = now_ns();
		c0 = cpu_ns();
		do {
			for (i = 0; i < 4096; i++)
				op();
			ops += 4096;
		} while (now_ns() < end);
		c1 = cpu_ns();
		t1 = now_ns();
		printf("%.1f %ld %.1f\n", (t1 - t0) / ops, ops, (c1 - c0) / ops);
		return 0;
	}
	warm = n / 10 + 1;
	for (i = 0; i < warm; i++)
		op();
	t0 = now_ns();
	c0 = cpu_ns();
	for (i = 0; i < n; i++)
		op();
	c1 = cpu_ns();
	t1 = now_ns();
	printf("%.1f %ld %.1f\n", (t1 - t0) / n, n, (c1 - c0) / n);
	if (ro_path[0]) {
		ro_path[strlen(ro_path) - 2] = 0;
		umount(ro_path);
		rmdir(ro_path);
	}
	return 0;
}
