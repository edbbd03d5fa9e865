// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "log.h"
#include "util.h"

int fam_to_af(uint8_t family)
{
	return family == MCTUN_FAM_INET6 ? AF_INET6 : AF_INET;
}

/* Split "a:p", "[a]:p" or "a" (port-less, for sources). */
static int split_addr(const char *s, char *addr, size_t alen, const char **port)
{
	const char *end;
	size_t n;

	*port = NULL;
	if (*s == '[') {
		end = strchr(s, ']');
		if (!end)
			return -EINVAL;
		n = end - s - 1;
		if (end[1] == ':')
			*port = end + 2;
		else if (end[1])
			return -EINVAL;
		s++;
	} else {
		end = strrchr(s, ':');
		/* more than one colon and no brackets: a bare IPv6 address */
		if (end && strchr(s, ':') != end)
			end = NULL;
		n = end ? (size_t)(end - s) : strlen(s);
		if (end)
			*port = end + 1;
	}
	if (n == 0 || n >= alen)
		return -EINVAL;
	memcpy(addr, s, n);
	addr[n] = '\0';
	/* Brackets only delimit an IPv6 address; no host has them or blanks. */
	for (s = addr; *s; s++)
		if (!isgraph((unsigned char)*s) || *s == '[' || *s == ']')
			return -EINVAL;
	return 0;
}

static int parse_ip(const char *s, uint8_t *family, uint8_t *out)
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, out) == 1) {
		*family = MCTUN_FAM_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out) == 1) {
		*family = MCTUN_FAM_INET6;
		return 0;
	}
	return -EINVAL;
}

static bool is_multicast(uint8_t family, const uint8_t *a)
{
	return family == MCTUN_FAM_INET ? (a[0] & 0xf0) == 0xe0 : a[0] == 0xff;
}

/* Bits of a beyond the first plen are all zero. */
static bool host_bits_zero(const uint8_t *a, unsigned int plen, unsigned int bits)
{
	unsigned int i;

	for (i = plen; i < bits; i++)
		if (a[i / 8] & (0x80 >> (i % 8)))
			return false;
	return true;
}

void addr_graft(uint8_t out[16], const uint8_t *prefix, unsigned int plen, const uint8_t *host)
{
	static const uint8_t zero[16];
	unsigned int i;

	if (!host)
		host = zero;
	for (i = 0; i < 16; i++) {
		uint8_t keep = plen >= 8 * (i + 1) ? 0xff : plen <= 8 * i ? 0 :
			       (uint8_t)(0xff00 >> (plen - 8 * i));

		out[i] = (prefix[i] & keep) | (host[i] & (uint8_t)~keep);
	}
}

bool addr_is_zero(const uint8_t addr[16])
{
	static const uint8_t zero[16];

	return !memcmp(addr, zero, sizeof(zero));
}

bool group_prefix_has(const struct mc_group *g, const uint8_t *addr)
{
	unsigned int full = g->plen / 8, rest = g->plen % 8;

	if (memcmp(g->addr, addr, full))
		return false;
	return !rest || !((g->addr[full] ^ addr[full]) & (0xff00 >> rest));
}

static int group_parse_any(const char *opt, const char *s, struct mc_group *g, bool range)
{
	char buf[GROUP_STRLEN], addr[ADDR_STRLEN], src[ADDR_STRLEN], *slash;
	const char *port, *at;
	uint8_t sfam = 0;
	uint32_t p, plen = 0;
	int err;

	memset(g, 0, sizeof(*g));
	if (!s || strlen(s) >= sizeof(buf)) {
		pr_warn("%s: '%s' is not GROUP:PORT\n", opt, s ? s : "");
		return -EINVAL;
	}
	strcpy(buf, s);
	at = strchr(buf, '@');
	if (at) {
		buf[at - buf] = '\0';
		if (split_addr(at + 1, src, sizeof(src), &port) || port ||
		    parse_ip(src, &sfam, g->src)) {
			pr_warn("%s: '%s': source '%s' is not an IP address\n", opt, s, at + 1);
			return -EINVAL;
		}
		g->ssm = true;
	}
	if (split_addr(buf, addr, sizeof(addr), &port) || !port) {
		pr_warn("%s: '%s' is not GROUP:PORT (IPv6 as [ff15::1]:5000%s)\n", opt, s,
			range ? "; a range as 239.192.0.0/16:5000 or [ff15::/16]:*" : "");
		return -EINVAL;
	}
	slash = strchr(addr, '/');
	if (slash)
		*slash = '\0';
	if (parse_ip(addr, &g->family, g->addr)) {
		pr_warn("%s: '%s': '%s' is not an IP address\n", opt, s, addr);
		return -EINVAL;
	}
	g->plen = group_full_plen(g->family);
	if (slash) {
		err = parse_u32(opt, slash + 1, g->family == MCTUN_FAM_INET ? 4 : 8, g->plen, &plen);
		if (err)
			return err;
		if (!host_bits_zero(g->addr, plen, g->plen)) {
			pr_warn("%s: '%s': %s has bits set past the prefix length %u\n", opt, s, addr,
				plen);
			return -EINVAL;
		}
		g->plen = plen;
		if (!range && plen < group_full_plen(g->family)) {
			pr_warn("%s: '%s': one group here, not a prefix\n", opt, s);
			return -EINVAL;
		}
	}
	/* a prefix of at least 4 (8) bits starting in 224/4 (ff00::/8) lies
	 * wholly in the multicast space */
	if (!is_multicast(g->family, g->addr)) {
		pr_warn("%s: '%s': %s is not a multicast address\n", opt, s, addr);
		return -EINVAL;
	}
	if (range && !strcmp(port, "*")) {
		g->port = 0;
	} else {
		err = parse_u32(opt, port, 1, 65535, &p);
		if (err)
			return err;
		g->port = p;
	}
	if (g->ssm) {
		if (sfam != g->family) {
			pr_warn("%s: '%s': source and group are of different families\n", opt, s);
			return -EINVAL;
		}
		if (is_multicast(sfam, g->src) || !memcmp(g->src, (uint8_t[16]){0}, 16)) {
			pr_warn("%s: '%s': source must be a unicast address\n", opt, s);
			return -EINVAL;
		}
	}
	return 0;
}

int group_parse(const char *opt, const char *s, struct mc_group *g)
{
	return group_parse_any(opt, s, g, false);
}

int group_parse_range(const char *opt, const char *s, struct mc_group *g)
{
	return group_parse_any(opt, s, g, true);
}

const char *addr_str(uint8_t family, const uint8_t *addr, char *buf, size_t len)
{
	if (!inet_ntop(fam_to_af(family), addr, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

const char *group_str(const struct mc_group *g, char *buf, size_t len)
{
	char a[ADDR_STRLEN], s[ADDR_STRLEN + 1] = "", pfx[8] = "", port[8] = "*";
	bool v6 = g->family == MCTUN_FAM_INET6;

	addr_str(g->family, g->addr, a, sizeof(a));
	if (g->ssm) {
		s[0] = '@';
		addr_str(g->family, g->src, s + 1, sizeof(s) - 1);
	}
	if (g->plen && g->plen < group_full_plen(g->family))
		snprintf(pfx, sizeof(pfx), "/%u", g->plen);
	if (g->port)
		snprintf(port, sizeof(port), "%u", g->port);
	snprintf(buf, len, "%s%s%s%s:%s%s", v6 ? "[" : "", a, pfx, v6 ? "]" : "", port, s);
	return buf;
}

bool group_same_dest(const struct mc_group *a, const struct mc_group *b)
{
	return a->family == b->family && a->port == b->port && a->plen == b->plen &&
	       !memcmp(a->addr, b->addr, 16);
}

socklen_t addr_sockaddr(uint8_t family, const uint8_t *addr, uint16_t port,
			unsigned int scope, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == MCTUN_FAM_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, addr, 16);
		s6->sin6_scope_id = scope;
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	memcpy(&s4->sin_addr, addr, 4);
	return sizeof(*s4);
}

int sockaddr_addr(const struct sockaddr *sa, uint8_t *family, uint8_t *addr, uint16_t *port)
{
	memset(addr, 0, 16);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		*family = MCTUN_FAM_INET;
		memcpy(addr, &s4->sin_addr, 4);
		*port = ntohs(s4->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		*family = MCTUN_FAM_INET6;
		memcpy(addr, &s6->sin6_addr, 16);
		*port = ntohs(s6->sin6_port);
		return 0;
	}
	return -EAFNOSUPPORT;
}

bool sockaddr_is_loopback(const struct sockaddr *sa)
{
	uint8_t fam, a[16];
	uint16_t port;

	if (sockaddr_addr(sa, &fam, a, &port))
		return false;
	if (fam == MCTUN_FAM_INET)
		return a[0] == 127;
	if (IN6_IS_ADDR_LOOPBACK((const struct in6_addr *)a))
		return true;
	/* ::ffff:127.x.y.z */
	return IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)a) && a[12] == 127;
}

const char *sockaddr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	uint8_t fam, a[16];
	char s[ADDR_STRLEN];
	uint16_t port;

	if (sockaddr_addr(sa, &fam, a, &port)) {
		snprintf(buf, len, "?");
		return buf;
	}
	addr_str(fam, a, s, sizeof(s));
	if (fam == MCTUN_FAM_INET6)
		snprintf(buf, len, "[%s]:%u", s, port);
	else
		snprintf(buf, len, "%s:%u", s, port);
	return buf;
}

int hostport_parse(const char *opt, const char *s, char *host, size_t hostlen, uint16_t *port)
{
	const char *p;
	uint32_t v;
	int err;

	if (!s || split_addr(s, host, hostlen, &p) || !p) {
		pr_warn("%s: '%s' is not HOST:PORT (IPv6 as [2001:db8::1]:7000)\n", opt,
			s ? s : "");
		return -EINVAL;
	}
	err = parse_u32(opt, p, 1, 65535, &v);
	if (err)
		return err;
	*port = v;
	return 0;
}

int hostport_resolve(const char *opt, const char *host, uint16_t port, bool passive,
		     struct sockaddr_storage *ss, socklen_t *sslen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	char serv[8];
	int rc;

	hints.ai_flags = passive ? AI_PASSIVE : AI_ADDRCONFIG;
	snprintf(serv, sizeof(serv), "%u", port);
	rc = getaddrinfo(host, serv, &hints, &res);
	if (rc) {
		pr_warn("%s: cannot resolve '%s': %s\n", opt, host, gai_strerror(rc));
		return -EHOSTUNREACH;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}
