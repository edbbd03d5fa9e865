/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Reading the kernel's per-interface settings under /proc/sys/net. */
#ifndef MCTUN_SYSCTL_H
#define MCTUN_SYSCTL_H

/*
 * /proc/sys/net/PROTO/conf/IFNAME/KEY as an int: PROTO "ipv4" or "ipv6",
 * IFNAME an interface, "all" or "default". Reads this process's network
 * namespace. Returns 0, -EINVAL when it holds no int, or -errno (-ENOENT:
 * no such interface, or that protocol is off on it).
 */
int sysctl_conf_int(const char *proto, const char *ifname, const char *key, int *out);

#endif
