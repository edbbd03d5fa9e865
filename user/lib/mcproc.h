/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The kernel's multicast memberships as /proc/net/igmp and /proc/net/igmp6
 * list them: per interface, the groups joined and how many joins (sockets,
 * and the kernel's own) each has. This process's network namespace.
 */
#ifndef MCTUN_MCPROC_H
#define MCTUN_MCPROC_H

#include <stdbool.h>
#include <stdint.h>

struct mcproc_ent {
	unsigned int ifindex;
	const char *name;          /* the interface */
	uint8_t family;            /* MCTUN_FAM_INET or MCTUN_FAM_INET6 */
	bool group;                /* false: /proc/net/igmp's line of the interface itself */
	int igmp_version;          /* interface line: the version in force (1-3), 0 if not said */
	uint8_t addr[16];          /* group line: the group (IPv4 in the first 4 bytes) */
	unsigned long users;       /* group line: joins of it on the interface */
};

/* Called per line; a non-zero return stops the walk and is returned. */
typedef int (*mcproc_fn)(void *arg, const struct mcproc_ent *e);

/*
 * Walk /proc/net/igmp (interface and group lines) or /proc/net/igmp6
 * (group lines). Returns 0, what fn returned, -ENOENT when the file is
 * missing (no IPv4 / no IPv6 here) or another -errno.
 */
int mcproc_igmp(mcproc_fn fn, void *arg);
int mcproc_igmp6(mcproc_fn fn, void *arg);

/* 32 hex digits, as the kernel prints an IPv6 address (%pi6), into out. */
int mcproc_hex16(const char *s, uint8_t out[16]);

#endif
