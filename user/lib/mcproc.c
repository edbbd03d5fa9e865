// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcproc.h"
#include "mctun.h"

int mcproc_hex16(const char *s, uint8_t out[16])
{
	unsigned int i, b;

	if (strlen(s) != 32)
		return -EINVAL;
	for (i = 0; i < 16; i++) {
		if (sscanf(s + 2 * i, "%2x", &b) != 1)
			return -EINVAL;
		out[i] = (uint8_t)b;
	}
	return 0;
}

/*
 * /proc/net/igmp: a line per interface ("4\teth0      :     1      V3"),
 * then one per group ("\t\t\t\t030201EF     2 0:00000000\t\t0": the
 * address as the kernel's __be32 printed in host order, then its users).
 */
int mcproc_igmp(mcproc_fn fn, void *arg)
{
	FILE *f = fopen("/proc/net/igmp", "re");
	struct mcproc_ent e = { .family = MCTUN_FAM_INET };
	char *line = NULL, name[64] = "", q[8];
	size_t cap = 0;
	bool have = false;
	int err = 0;

	if (!f)
		return -errno;
	e.name = name;
	while (!err && getline(&line, &cap, f) > 0) {
		unsigned int a, count;
		int idx;

		if (line[0] >= '0' && line[0] <= '9') {
			have = sscanf(line, "%d %63[^: \t] : %u %7s", &idx, name, &count, q) == 4;
			if (!have)
				continue;
			e.ifindex = (unsigned int)idx;
			e.group = false;
			e.igmp_version = q[0] == 'V' && q[1] >= '1' && q[1] <= '3' ? q[1] - '0' : 0;
			memset(e.addr, 0, sizeof(e.addr));
			e.users = 0;
			err = fn(arg, &e);
		} else if (have && line[0] == '\t' && sscanf(line, "%x %lu", &a, &e.users) == 2) {
			e.group = true;
			memset(e.addr, 0, sizeof(e.addr));
			memcpy(e.addr, &a, 4);
			err = fn(arg, &e);
		}
	}
	if (!err && ferror(f))
		err = -EIO;
	free(line);
	fclose(f);
	return err;
}

/* /proc/net/igmp6: "2    eth0            ff150000000000000000000000000001     1
 * 00000004 0": interface index and name, the address in hex, users. */
int mcproc_igmp6(mcproc_fn fn, void *arg)
{
	FILE *f = fopen("/proc/net/igmp6", "re");
	struct mcproc_ent e = { .family = MCTUN_FAM_INET6, .group = true };
	char *line = NULL, name[64], hex[64];
	size_t cap = 0;
	int err = 0;

	if (!f)
		return -errno;
	e.name = name;
	while (!err && getline(&line, &cap, f) > 0) {
		unsigned int idx;

		if (sscanf(line, "%u %63s %63s %lu", &idx, name, hex, &e.users) != 4 ||
		    mcproc_hex16(hex, e.addr))
			continue;
		e.ifindex = idx;
		err = fn(arg, &e);
	}
	if (!err && ferror(f))
		err = -EIO;
	free(line);
	fclose(f);
	return err;
}
