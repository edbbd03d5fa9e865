/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * doctor's firewall readers: nft's ruleset as JSON (`nft -j list ruleset`)
 * and iptables-save's text, scanned for rules that may drop a multicast
 * group, UDP or IGMP/MLD. What a rule matches is read, not evaluated: a
 * hint, not a proof. Pure functions of their input.
 */
#ifndef MCTUN_FIREWALL_H
#define MCTUN_FIREWALL_H

#include <stdbool.h>
#include <stddef.h>

struct fw_scan {
	const char *group;         /* the group's address as text, which a rule may name */
	unsigned int rules;        /* rules read */
	unsigned int hits;         /* of which suspicious */
	char first[200];           /* the first suspicious one, as nft or iptables-save print it */
};

/*
 * nft's JSON ruleset, len bytes: every rule counted; a base chain whose
 * policy is drop, and a rule that drops or rejects and names UDP, IGMP,
 * ICMPv6, MLD, multicast, 224.0.0.0/4, ff00::/8 or the group, are hits,
 * in the order `nft list ruleset` prints them. 0, or -EINVAL with what is
 * wrong in err when it is not nft's JSON.
 */
int fw_scan_nft_json(struct fw_scan *s, const char *json, size_t len, char *err, size_t errlen);

/* One line of iptables-save's output, trimmed. */
void fw_scan_ipt_line(struct fw_scan *s, const char *line);

#endif
