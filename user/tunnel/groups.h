/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one index of the configured groups: by destination for frames from
 * the tunnel, across a reload (which group of the new config is which of
 * the old), their ids (counter slots of the BPF program, kept across
 * reloads), and the entries they make in the BPF groups map.
 */
#ifndef MCTUN_GROUPS_H
#define MCTUN_GROUPS_H

#include <stdint.h>

#include "config.h"
#include "mctun.h"

/* Index by (family, prefix, port, source): open addressing, -1 = empty;
 * and per family which prefix lengths are in use, longest first, and
 * which kinds of entry (MCTUN_RK_*, exact groups counted as a port and a
 * source or not). */
struct gtable {
	int *slot;
	unsigned int mask;
	uint8_t plens[2][129];         /* [0] IPv4, [1] IPv6 */
	unsigned int nplens[2];
	unsigned int kinds[2];
	/* by prefix alone (family, plen, address): the first group of each,
	 * the others chained through next[] */
	int *pslot;
	int *next;
	/* gtable_find()'s last answer: a stream of one group looks it up once */
	struct {
		bool ok;
		uint8_t family;
		uint16_t port;
		int gi;
		uint8_t addr[16], src[16];
	} last;
};

/* Index cfg's groups into gt. */
int gtable_build(const struct config *cfg, struct gtable *gt);
void gtable_free(struct gtable *gt);
/* Index into cfg->groups of the group a datagram to (family, addr, port)
 * from src belongs to, or -1: the most specific, as the BPF program
 * chooses (bpf/mctun.bpf.c, lookup_group): the longest prefix; of equal
 * ones a port before any port, then a source before any source. */
int gtable_find(struct gtable *gt, const struct config *cfg, uint8_t family,
		const uint8_t *addr, uint16_t port, const uint8_t *src);

/* Calls fn with the index of every group of cfg whose prefix holds addr
 * (any port, any source), longest prefixes first; stops at fn's first
 * non-zero return, which it returns. */
int gtable_foreach_containing(const struct gtable *gt, const struct config *cfg, uint8_t family,
			      const uint8_t *addr, int (*fn)(void *ctx, int gi), void *ctx);

/* For each group of a, its index in b (same address, port and source), or
 * -1; into a_in_b[a->ngroups]. Returns 0 or -ENOMEM. */
int groups_match(const struct config *a, const struct config *b, int *a_in_b);

/* Ids for cfg's groups: a group kept from old (n2o: groups_match(cfg, old))
 * keeps its id, a new one takes the lowest id free, avoiding those of
 * groups just removed while there are others. Returns 0 or -ENOMEM. */
int groups_assign_ids(const struct config *old, struct config *cfg, const int *n2o);

/* A group's MCTUN_GF_* direction flags, as its BPF entry carries them. */
__u32 groups_dir_flags(const struct cfg_group *gc);

/* One entry of mctun_groups or of mctun_ranges, and which group of its
 * config made it. */
struct group_entry {
	uint8_t map;                   /* GE_GROUPS or GE_RANGES */
	union {
		struct mctun_group_key k;      /* GE_GROUPS */
		struct mctun_range_key r;      /* GE_RANGES */
		uint8_t key[sizeof(struct mctun_range_key)];
	};
	struct mctun_group_val v;
	unsigned int ord;
};

enum { GE_GROUPS, GE_RANGES };

/* The entries groups g[0..n) put in the BPF maps, sorted by map and key.
 * Each exact group makes one in mctun_groups, and one per address of
 * those it uses on the island (groups_on_island(); port 0, no source, for
 * fragments, with the group's IDLE and NOCAPTURE flags; the first such
 * group gives its id); each range one in mctun_ranges. targets: local
 * targets are configured. *out is malloc'ed (NULL for none); *kinds gets
 * the MCTUN_RK_* of the ranges. Returns 0 or -ENOMEM. */
int groups_bpf_entries(const struct cfg_group *g, unsigned int n, bool targets,
		       struct group_entry **out, unsigned int *nout, __u32 *kinds);
/* Whether the island's traffic of gc is wanted here, so that the gateway
 * joins it and sees its fragments: captured for the tunnel, or copied to
 * local targets. targets: a target takes every configured group (for the
 * joins: 'groups all'; the groups receivers behind the other targets
 * joined are joined by tlearn.c); for the map's address entries, any
 * target (a fragment is copied to whichever target joined its group). */
static inline bool groups_on_island(const struct cfg_group *gc, bool targets)
{
	return targets || (group_captures(gc) && !(gc->bpf_flags & MCTUN_GF_IDLE));
}

#endif
