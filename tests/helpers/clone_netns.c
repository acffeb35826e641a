// SPDX-License-Identifier: Apache-2.0
/* Test helper: creates a child in a new netns with clone() or clone3()
 * (argv[1]: clone, clone3, clone-userns = clone() with a new user namespace
 * too). Prints its own pid (the creator), then the child's netns inode and
 * pid. The child exits at once, or with argv[2] = "hold" keeps the netns alive
 * (its inode cannot be reused) until killed or 60 s have passed. */
#define _GNU_SOURCE
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int use3 = argc > 1 && strcmp(argv[1], "clone3") == 0;
	int userns = argc > 1 && strcmp(argv[1], "clone-userns") == 0;
	int hold = argc > 2 && strcmp(argv[2], "hold") == 0;
	unsigned long ino = 0;
	int fds[2];
	long pid;

	printf("%d\n", (int)getpid());
	fflush(stdout);
	/* The child reports its netns inode through a pipe: the caller only
	 * waits for this process, so it prints the line before exiting. */
	if (pipe(fds) != 0) {
		perror("pipe");
		return 1;
	}
	if (use3) {
		struct clone_args a;

		memset(&a, 0, sizeof a);
		a.flags = CLONE_NEWNET;
		a.exit_signal = SIGCHLD;
		pid = syscall(SYS_clone3, &a, sizeof a);
	} else {
		pid = syscall(SYS_clone, CLONE_NEWNET | (userns ? CLONE_NEWUSER : 0) | SIGCHLD, 0,
			      0, 0, 0);
	}
	if (pid < 0) {
		perror("clone");
		return 1;
	}
	if (pid == 0) {
		struct stat st;

		if (stat("/proc/self/ns/net", &st) != 0)
			_exit(1);
		ino = st.st_ino;
		if (write(fds[1], &ino, sizeof ino) != sizeof ino)
			_exit(1);
		if (hold) {
			close(1);
			close(2);
			alarm(60);
			pause();
		}
		_exit(0);
	}
	close(fds[1]);
	if (read(fds[0], &ino, sizeof ino) != sizeof ino) {
		fprintf(stderr, "child reported no netns\n");
		return 1;
	}
	printf("%lu %ld\n", ino, pid);
	fflush(stdout);
	if (hold)
		return 0;
	int status;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
