/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The querier's sockets: IGMP and MLD queries onto the island (raw
 * sockets bound to the interface, TTL / hop limit 1, router alert,
 * multicast loopback off), and the interface's own addresses that they
 * leave from and that the querier election compares.
 */
#ifndef MCTUN_QUERY_SEND_H
#define MCTUN_QUERY_SEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

struct query_send {
	int fd[2];                     /* [0] IGMP, [1] ICMPv6; -1 if not open */
	unsigned int ifindex;
	bool have[2];                  /* the interface has an address of the family */
	bool any4;                     /* IGMP queries even without an IPv4 address (the
					* kernel picks the source) */
	uint8_t addr[2][16];           /* its first IPv4 address, its IPv6 link-local */
	__u64 *errors;                 /* sends refused */
};

void query_send_init(struct query_send *qs, __u64 *errors);
/* The sockets of both families on the interface; a family the kernel
 * lacks is logged and left closed. Returns 0 or -errno when neither opens. */
int query_send_open(struct query_send *qs, unsigned int ifindex, const char *ifname);
void query_send_close(struct query_send *qs);
/* The interface's addresses now: returns whether either changed. */
bool query_send_addrs(struct query_send *qs);
/* One query message (mship_build_query) to dst (mship_query_dst), from
 * the family's address. */
void query_send(struct query_send *qs, uint8_t family, const uint8_t *msg, size_t len,
		const uint8_t dst[16]);

#endif
