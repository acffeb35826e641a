// SPDX-License-Identifier: Apache-2.0
/* Loads bench/floor.bpf.o, attaches it to the cgroup2 root given as argv[2],
 * prints "ready" and holds it until stdin closes or a signal arrives (the
 * link dies with the process: nothing stays attached). */
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_link *link;
	char c;
	int cg;

	if (argc != 3) {
		fprintf(stderr, "usage: floor_loader floor.bpf.o CGROUP2_ROOT\n");
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "floor_loader: cannot load %s\n", argv[1]);
		return 1;
	}
	prog = bpf_object__find_program_by_name(obj, "floor_sysctl");
	cg = open(argv[2], O_RDONLY | O_DIRECTORY);
	link = prog && cg >= 0 ? bpf_program__attach_cgroup(prog, cg) : NULL;
	if (!link) {
		fprintf(stderr, "floor_loader: cannot attach to %s\n", argv[2]);
		return 1;
	}
	fprintf(stderr, "ready\n");
	while (read(0, &c, 1) > 0)
		;
	bpf_link__destroy(link);
	bpf_object__close(obj);
	return 0;
}
