// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "pins.h"

static int netns_ino(const char *path, ino_t *ino)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	*ino = st.st_ino;
	return 0;
}

int pin_dir_for(const char *ifname, char *buf, size_t len)
{
	ino_t self, init;
	int n;

	if (netns_ino("/proc/self/ns/net", &self))
		return -errno;
	/* pid 1's namespace is the host's; unreadable means we are not it */
	if (!netns_ino("/proc/1/ns/net", &init) && init == self)
		n = snprintf(buf, len, "%s/%s", PIN_ROOT, ifname);
	else
		n = snprintf(buf, len, "%s/netns%lu/%s", PIN_ROOT, (unsigned long)self, ifname);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

bool pid_is_mctun(pid_t pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	if (pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH))
		return false;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	return !strncmp(comm, "mctun", 5);
}

int stats_sum(int map_fd, unsigned int key, void *out, size_t size)
{
	int ncpus = libbpf_num_possible_cpus(), err = 0, c;
	size_t words = size / 8, w;
	__u64 *vals, *sum = out;

	if (ncpus < 0)
		return ncpus;
	vals = calloc(ncpus, size);
	if (!vals)
		return -ENOMEM;
	memset(out, 0, size);
	if (bpf_map_lookup_elem(map_fd, &key, vals)) {
		err = -errno;
		goto out;
	}
	for (c = 0; c < ncpus; c++)
		for (w = 0; w < words; w++)
			sum[w] += vals[c * words + w];
out:
	free(vals);
	return err;
}
