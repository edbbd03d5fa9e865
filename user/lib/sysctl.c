// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "sysctl.h"

int sysctl_conf_int(const char *proto, const char *ifname, const char *key, int *out)
{
	char path[160], buf[32], *end;
	size_t n;
	long v;
	FILE *f;

	/* an interface name holds no '/' (the kernel refuses it) */
	n = snprintf(path, sizeof(path), "/proc/sys/net/%s/conf/%s/%s", proto, ifname, key);
	if (n >= sizeof(path))
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	if (end == buf || (*end && *end != '\n') || errno || v < INT_MIN || v > INT_MAX)
		return -EINVAL;
	*out = v;
	return 0;
}
