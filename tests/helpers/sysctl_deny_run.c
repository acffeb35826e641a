// SPDX-License-Identifier: Apache-2.0
/*
 * Test helper: attaches deny_sysctl.bpf.o to the cgroup v2 directory CGROUP
 * (a scratch cgroup the test created), runs CMD inside that cgroup, and
 * exits with its status. The link is an fd: it detaches when we exit.
 *
 *   sysctl_deny_run OBJ CGROUP CMD [ARGS...]
 */
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s OBJ CGROUP CMD [ARGS...]\n", argv[0]);
		return 2;
	}
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "cannot load %s\n", argv[1]);
		return 2;
	}
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, "deny_writes");
	int cg = open(argv[2], O_RDONLY | O_DIRECTORY);
	if (!prog || cg < 0) {
		perror(argv[2]);
		return 2;
	}
	struct bpf_link *link = bpf_program__attach_cgroup(prog, cg);
	if (!link) {
		perror("attach");
		return 2;
	}
	pid_t pid = fork();
	if (pid == 0) {
		char procs[4096], me[32];
		snprintf(procs, sizeof procs, "%s/cgroup.procs", argv[2]);
		int fd = open(procs, O_WRONLY);
		int n = snprintf(me, sizeof me, "%d", getpid());
		if (fd < 0 || write(fd, me, n) != n) {
			perror(procs);
			_exit(2);
		}
		close(fd);
		execvp(argv[3], argv + 3);
		_exit(127);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	bpf_link__destroy(link);
	bpf_object__close(obj);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}
