/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Multicast groups and host:port strings: parsing and printing. */
#ifndef MCTUN_ADDR_H
#define MCTUN_ADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "mctun.h"

#define ADDR_STRLEN  48   /* an IPv6 address, with room to spare */
#define GROUP_STRLEN 112  /* "[addr]:port@[source]" */

struct mc_group {
	uint8_t family;      /* MCTUN_FAM_INET or MCTUN_FAM_INET6 */
	bool ssm;            /* src is meaningful */
	uint8_t plen;        /* prefix length of addr: 32 / 128 for one group */
	uint16_t port;       /* host order; 0: any port (a range) */
	uint8_t addr[16];    /* network order, IPv4 in the first 4 bytes */
	uint8_t src[16];     /* network order, IPv4 in the first 4 bytes */
};

/* "239.1.2.3:5000", "[ff15::1]:5000", "232.1.1.1:5000@198.18.1.1",
 * "[ff35::1]:5000@2001:db8::1" (the source may also be bracketed). */
int group_parse(const char *opt, const char *s, struct mc_group *g);
/* Those, and ranges: a prefix, any port or both, "239.192.0.0/16:5000",
 * "239.1.2.3:*", "[ff15::/16]:*", with @SOURCE as above. The prefix must
 * lie inside the multicast space and have no host bits set. */
int group_parse_range(const char *opt, const char *s, struct mc_group *g);
/* The same forms, canonical. Returns buf. */
const char *group_str(const struct mc_group *g, char *buf, size_t len);
/* Same group address, prefix and port (source ignored). */
bool group_same_dest(const struct mc_group *a, const struct mc_group *b);
/* The prefix length of one address of the family: 32 or 128. */
static inline uint8_t group_full_plen(uint8_t family)
{
	return family == MCTUN_FAM_INET6 ? 128 : 32;
}
/* More than one group: a prefix, or any port. */
static inline bool group_is_range(const struct mc_group *g)
{
	return g->plen < group_full_plen(g->family) || !g->port;
}
/* out: the first plen bits of prefix, the rest those of host (NULL: zero),
 * 16 bytes each. out may be prefix or host. */
void addr_graft(uint8_t out[16], const uint8_t *prefix, unsigned int plen, const uint8_t *host);
/* Whether addr (of g's family) lies in g's prefix. */
/* All 16 bytes zero: no address (as frames say "unknown"). */
bool addr_is_zero(const uint8_t addr[16]);
bool group_prefix_has(const struct mc_group *g, const uint8_t *addr);

/* Address bytes as text. Returns buf. */
const char *addr_str(uint8_t family, const uint8_t *addr, char *buf, size_t len);
/* sockaddr for (family, addr, port); port in host order. */
socklen_t addr_sockaddr(uint8_t family, const uint8_t *addr, uint16_t port,
			unsigned int scope, struct sockaddr_storage *ss);
/* The reverse; returns 0 or -EAFNOSUPPORT. */
int sockaddr_addr(const struct sockaddr *sa, uint8_t *family, uint8_t *addr, uint16_t *port);
/* 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104; not the wildcard. */
bool sockaddr_is_loopback(const struct sockaddr *sa);
/* "198.18.0.1:7000" or "[2001:db8::1]:7000" for a sockaddr. Returns buf. */
const char *sockaddr_str(const struct sockaddr *sa, char *buf, size_t len);

int fam_to_af(uint8_t family);

/* "host:port", "[v6]:port"; host may be a name. *host is a copy in buf. */
int hostport_parse(const char *opt, const char *s, char *host, size_t hostlen, uint16_t *port);
/* Resolve host:port; passive for listening. Blocks in getaddrinfo for names. */
int hostport_resolve(const char *opt, const char *host, uint16_t port, bool passive,
		     struct sockaddr_storage *ss, socklen_t *sslen);

#endif
