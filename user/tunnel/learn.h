/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * --membership learn: the groups receivers on the island joined, learned
 * from the IGMP/MLD messages the BPF program hands over (membership.c
 * keeps the RFC 3376/3810 state), the querier's queries sent through
 * query_send.c, and what was learned published for `mctun status`. The
 * configuration stays the policy: only groups that a configured group or
 * range (or a rewrite target) re-injects here are learned.
 */
#ifndef MCTUN_LEARN_H
#define MCTUN_LEARN_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "mctun.h"
#include "query_send.h"

struct mship;

/* The prefixes learning may take a group from. */
struct prefix_set {
	uint8_t (*slot)[18];           /* family, plen, address; family 0: empty */
	unsigned int mask;
	uint8_t plens[2][129];         /* per family, longest first */
	unsigned int nplens[2];
};

struct learn {
	struct mship *ms;
	struct query_send qs;
	struct prefix_set allowed;
	struct mctun_dstats *st;       /* mship_* and query counters, querier */
	bool target;                   /* behind a local target (tlearn.c), not the island */
	uint64_t next;                 /* mship's next deadline */
	uint64_t t_addrs;              /* the interface's addresses are read again then */
	uint64_t t_publish;            /* what was learned is published again then */
	bool dirty;                    /* ... at once: a group changed */
	unsigned int published;        /* slots of mctun_members in use */
	/* changed(): what a group's receivers want changed */
	void (*changed)(void *ctx, uint8_t family, const uint8_t group[16]);
	void *ctx;
};

/* Learning on cfg's interface, with cfg's policy and timers. Returns 0 or
 * -errno (logged). */
int learn_open(struct learn *l, const struct config *cfg, struct mctun_dstats *st,
	       uint64_t now);
/* The same on another interface: target, a local target's (every
 * configured group allowed, whatever its direction; IGMP queries even
 * without an IPv4 address there). */
int learn_open_on(struct learn *l, const struct config *cfg, unsigned int ifindex,
		  const char *ifname, bool target, struct mctun_dstats *st, uint64_t now);
void learn_close(struct learn *l);
/* The policy of a new configuration (a reload): groups it no longer
 * allows are forgotten. Returns 0 or -ENOMEM (the old policy stays). */
int learn_set_config(struct learn *l, const struct config *cfg);

/* An IGMP/MLD message the BPF program handed over. */
void learn_event(struct learn *l, const struct mctun_event *ev, const uint8_t *msg, uint32_t len);
/* Timers, queries, the interface's addresses, counters. */
void learn_tick(struct learn *l, uint64_t now);
/* Publish the learned groups into the map (mctun_members) when due. */
void learn_publish(struct learn *l, int members_fd, uint64_t now);

struct mship_group_info;
/* Every learned group, until fn returns non-zero (returned). */
int learn_foreach(const struct learn *l, uint64_t now,
		  int (*fn)(void *ctx, const struct mship_group_info *g), void *ctx);

/* Does a receiver on the island want datagrams from src to group? */
bool learn_wants(const struct learn *l, uint8_t family, const uint8_t group[16],
		 const uint8_t src[16]);

#endif
