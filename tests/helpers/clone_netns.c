// SPDX-License-Identifier: Apache-2.0
/* Test helper: creates a child in a new netns with clone() or clone3()
 * (argv[1]: clone, clone3, clone-userns = clone() with a new user namespace
 * too) and prints the child's netns inode. */
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
	long pid;

	fflush(stdout);
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
		printf("%lu\n", (unsigned long)st.st_ino);
		fflush(stdout);
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
