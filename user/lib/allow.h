/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* --allow CIDR: which addresses may connect to a listener. */
#ifndef MCTUN_ALLOW_H
#define MCTUN_ALLOW_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct cidr {
	uint8_t family;      /* MCTUN_FAM_INET or MCTUN_FAM_INET6 */
	uint8_t plen;        /* prefix length: 0..32 or 0..128 */
	uint8_t addr[16];    /* network order, host bits zero; IPv4 in the first 4 bytes */
};

/* "198.18.0.0/15", "2001:db8::/32", or one address ("198.18.0.1" = /32).
 * Host bits set below the prefix are refused: they usually mean a typo. */
int cidr_parse(const char *opt, const char *s, struct cidr *c);
/* True when sa falls in one of the n ranges. An IPv4-mapped IPv6 address
 * (a dual-stack listener's IPv4 peer) is matched as the IPv4 address. */
bool cidr_match(const struct cidr *list, unsigned int n, const struct sockaddr *sa);

#endif
