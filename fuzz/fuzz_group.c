// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * group_parse_range() and group_parse() on arbitrary strings (the input,
 * NUL-terminated).
 *
 * Invariants for an accepted group:
 * - the address is multicast of its family; the prefix length is at least
 *   4 (IPv4) or 8 (IPv6) and at most the address's, with no bit set past
 *   it; group_parse() accepts exactly the groups that are no range (one
 *   address, a port), and gives the same group; an SSM
 *   source is unicast, not zero, of the group's family; a group without a
 *   source has an all-zero src; IPv4 addresses have nothing past byte 4;
 * - group_str() prints it whole (no truncation) and that text parses back
 *   to the same group (canonical form is a fixed point);
 * - group_same_dest() holds between the two.
 * For a refused one: the result is -EINVAL or -ERANGE.
 */
#include <errno.h>
#include <string.h>

#include "addr.h"
#include "fuzz.h"
#include "log.h"

static const uint8_t zero[16];

static int multicast(const struct mc_group *g, const uint8_t *a)
{
	return g->family == MCTUN_FAM_INET ? (a[0] & 0xf0) == 0xe0 : a[0] == 0xff;
}

static void check_group(const struct mc_group *g)
{
	CHECK(g->family == MCTUN_FAM_INET || g->family == MCTUN_FAM_INET6, "family %u",
	      g->family);
	CHECK(g->plen >= (g->family == MCTUN_FAM_INET ? 4 : 8) &&
	      g->plen <= group_full_plen(g->family), "prefix length %u", g->plen);
	for (unsigned int i = g->plen; i < 128; i++)
		CHECK(!(g->addr[i / 8] & (0x80 >> (i % 8))), "bit %u set past /%u", i, g->plen);
	CHECK(multicast(g, g->addr), "group not multicast");
	if (g->family == MCTUN_FAM_INET)
		CHECK(!memcmp(g->addr + 4, zero, 12) && !memcmp(g->src + 4, zero, 12),
		      "IPv4 address with bytes past 4");
	if (g->ssm)
		CHECK(!multicast(g, g->src) && memcmp(g->src, zero, 16), "bad SSM source");
	else
		CHECK(!memcmp(g->src, zero, 16), "source without ssm");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_level = -1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mc_group g, h;
	char *s = malloc(size + 1);
	char text[GROUP_STRLEN], text2[GROUP_STRLEN];
	int err;

	memcpy(s, data, size);
	s[size] = '\0';
	err = group_parse_range("-g", s, &g);
	if (err) {
		CHECK(err == -EINVAL || err == -ERANGE, "group_parse_range returned %d", err);
		CHECK(group_parse("-g", s, &h), "group_parse takes what group_parse_range refuses");
		free(s);
		return 0;
	}
	check_group(&g);
	err = group_parse("-g", s, &h);
	if (group_is_range(&g))
		CHECK(err, "group_parse takes the range '%s'", s);
	else
		CHECK(!err && !memcmp(&g, &h, sizeof(g)), "group_parse differs on '%s'", s);
	group_str(&g, text, sizeof(text));
	CHECK(strlen(text) < sizeof(text) - 1, "group_str may have cut '%s'", text);
	err = group_parse_range("-g", text, &h);
	CHECK(!err, "'%s' (from '%s') does not parse back: %d", text, s, err);
	CHECK(g.family == h.family && g.ssm == h.ssm && g.port == h.port && g.plen == h.plen &&
	      !memcmp(g.addr, h.addr, 16) && !memcmp(g.src, h.src, 16),
	      "'%s' parses back to another group", text);
	CHECK(group_same_dest(&g, &h), "group_same_dest");
	group_str(&h, text2, sizeof(text2));
	CHECK(!strcmp(text, text2), "canonical form moves: '%s' -> '%s'", text, text2);
	free(s);
	return 0;
}
