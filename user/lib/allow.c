// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "allow.h"
#include "log.h"
#include "util.h"

int cidr_parse(const char *opt, const char *s, struct cidr *c)
{
	char a[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	unsigned int max, i;
	uint32_t plen;

	memset(c, 0, sizeof(*c));
	if (!n || n >= sizeof(a)) {
		pr_warn("%s: '%s' is not an address or ADDRESS/PREFIX\n", opt, s);
		return -EINVAL;
	}
	memcpy(a, s, n);
	a[n] = '\0';
	if (inet_pton(AF_INET, a, c->addr) == 1) {
		c->family = MCTUN_FAM_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, a, c->addr) == 1) {
		c->family = MCTUN_FAM_INET6;
		max = 128;
	} else {
		pr_warn("%s: '%s' is not an IPv4 or IPv6 address\n", opt, a);
		return -EINVAL;
	}
	plen = max;
	if (slash && parse_u32(opt, slash + 1, 0, max, &plen))
		return -EINVAL;
	c->plen = plen;
	for (i = plen; i < max; i++) {
		if (c->addr[i / 8] & (0x80 >> (i % 8))) {
			pr_warn("%s: '%s' has bits set past the /%u prefix\n", opt, s, plen);
			return -EINVAL;
		}
	}
	return 0;
}

static bool in_range(const struct cidr *c, uint8_t family, const uint8_t *addr)
{
	unsigned int full = c->plen / 8, rest = c->plen % 8;

	if (c->family != family || memcmp(c->addr, addr, full))
		return false;
	return !rest || !((c->addr[full] ^ addr[full]) & (0xff00 >> rest));
}

bool cidr_match(const struct cidr *list, unsigned int n, const struct sockaddr *sa)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	uint8_t family, addr[16];
	uint16_t port;
	unsigned int i;

	if (sockaddr_addr(sa, &family, addr, &port))
		return false;
	if (family == MCTUN_FAM_INET6 && !memcmp(addr, mapped, sizeof(mapped))) {
		memmove(addr, addr + 12, 4);
		memset(addr + 4, 0, 12);
		family = MCTUN_FAM_INET;
	}
	for (i = 0; i < n; i++)
		if (in_range(&list[i], family, addr))
			return true;
	return false;
}
