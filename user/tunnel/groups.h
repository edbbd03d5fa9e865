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

/* Index by (family, address, port): open addressing, -1 = empty. */
struct gtable {
	int *slot;
	unsigned int mask;
};

/* Index cfg's groups into gt (of the same source, the first one wins). */
int gtable_build(const struct config *cfg, struct gtable *gt);
void gtable_free(struct gtable *gt);
/* Index into cfg->groups of the group (family, addr, port), or -1. */
int gtable_find(const struct gtable *gt, const struct config *cfg, uint8_t family,
		const uint8_t *addr, uint16_t port);

/* For each group of a, its index in b (same address, port and source), or
 * -1; into a_in_b[a->ngroups]. Returns 0 or -ENOMEM. */
int groups_match(const struct config *a, const struct config *b, int *a_in_b);

/* Ids for cfg's groups: a group kept from old (n2o: groups_match(cfg, old))
 * keeps its id, a new one takes the lowest id free, avoiding those of
 * groups just removed while there are others. Returns 0 or -ENOMEM. */
int groups_assign_ids(const struct config *old, struct config *cfg, const int *n2o);

/* A group's MCTUN_GF_* direction flags, as its BPF entry carries them. */
__u32 groups_dir_flags(const struct cfg_group *gc);

/* One entry of mctun_groups, and which group of its config made it. */
struct group_entry {
	struct mctun_group_key k;
	struct mctun_group_val v;
	unsigned int ord;
};

/* The entries cfg puts in mctun_groups (none for NULL), sorted by key: one
 * per group, and one per address of the groups it captures (port 0, no
 * source, for fragments; the first such group in the config gives its id).
 * *out is malloc'ed. Returns 0 or -ENOMEM. */
int groups_bpf_entries(const struct config *cfg, struct group_entry **out, unsigned int *n);

#endif
