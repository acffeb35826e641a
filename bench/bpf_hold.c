// SPDX-License-Identifier: Apache-2.0
/* Loads the named programs of a bench BPF object, attaches them (to the
 * cgroup2 root when one is given, else where their SEC() says), prints
 * "ready" and holds them until stdin closes or a signal arrives: the links
 * die with the process, so nothing stays attached.
 *
 *   bpf_hold floor.bpf.o floor_sysctl /sys/fs/cgroup/unified
 *   bpf_hold hookshape.bpf.o exit_openat,exit_open */
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Is NAME one of the comma-separated names in LIST? */
static int listed(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && !strncmp(p, name, n))
			return 1;
		p += len + (end ? 1 : 0);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	int cg = -1, held = 0;
	char c;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: bpf_hold OBJ PROG[,PROG...] [CGROUP2_ROOT]\n");
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "bpf_hold: cannot open %s\n", argv[1]);
		return 1;
	}
	bpf_object__for_each_program(prog, obj)
		bpf_program__set_autoload(prog, listed(argv[2], bpf_program__name(prog)));
	if (bpf_object__load(obj)) {
		fprintf(stderr, "bpf_hold: cannot load %s\n", argv[1]);
		return 1;
	}
	if (argc == 4 && (cg = open(argv[3], O_RDONLY | O_DIRECTORY)) < 0) {
		fprintf(stderr, "bpf_hold: cannot open %s\n", argv[3]);
		return 1;
	}
	bpf_object__for_each_program(prog, obj) {
		if (!bpf_program__autoload(prog))
			continue;
		if (!(cg >= 0 ? bpf_program__attach_cgroup(prog, cg) : bpf_program__attach(prog))) {
			fprintf(stderr, "bpf_hold: cannot attach %s\n", bpf_program__name(prog));
			return 1;
		}
		held++;
	}
	if (!held) {
		fprintf(stderr, "bpf_hold: no program named %s in %s\n", argv[2], argv[1]);
		return 1;
	}
	fprintf(stderr, "ready\n");
	while (read(0, &c, 1) > 0)
		;
	bpf_object__close(obj);
	return 0;
}
