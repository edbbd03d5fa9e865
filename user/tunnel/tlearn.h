/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Which groups the receivers behind each local target (--to, --netns,
 * --container) joined: one membership state (learn.c, membership.c) per
 * target, fed by a packet socket on the target's interface that takes
 * only the IGMP and MLD messages coming out of it, with the island's
 * querier parameters (queries go out of the target's interface). What they
 * want goes into mctun_tgroups (the BPF program copies a group only to
 * the targets whose bit is set) and is joined on the island, so that
 * switches deliver it. A target of 'groups all' learns nothing: it gets
 * every configured group, as the island's joins do.
 */
#ifndef MCTUN_TLEARN_H
#define MCTUN_TLEARN_H

#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "learn.h"
#include "mctun.h"

struct daemon;

struct tslot {
	struct src src;                /* first: epoll data points here; fd -1: closed */
	unsigned int ifindex;          /* the interface it is open on; 0: none */
	bool open;                     /* l is open */
	struct learn l;
	struct mctun_dstats st;        /* l's counters (its own, not the daemon's) */
};

/* A group wanted behind targets; joined on the island by fd. */
struct tgroup {
	uint8_t family;
	uint8_t addr[16];
	uint32_t mask;                 /* bit i: target slot i */
	int fd;                        /* its join on the island; -1: none */
};

struct tlearn {
	struct tslot s[MCTUN_MAX_TARGETS];
	unsigned int n;                /* slots (the configuration's targets) */
	struct tgroup *g;              /* sorted by family, addr */
	unsigned int ng;
	bool dirty;                    /* a slot's groups changed */
	bool all;                      /* a target takes every group ('groups all') */
	uint64_t join_errors;          /* island joins that failed */
};

/* For d's targets (d->bpf open). Returns 0 or -ENOMEM. */
int tlearn_open(struct daemon *d);
void tlearn_close(struct daemon *d);
/* A new configuration's groups: what receivers behind targets joined and
 * it no longer has is forgotten (at the next tick). */
void tlearn_set_config(struct daemon *d, const struct config *cfg);
/* Targets that moved to another interface, timers, queries, what changed. */
void tlearn_tick(struct daemon *d, uint64_t now);
/* Messages on slot s's socket. */
void tlearn_read(struct daemon *d, struct tslot *s);
/* Does a receiver behind some target want the group (or does a target
 * take every group)? */
bool tlearn_wants(const struct tlearn *tl, uint8_t family, const uint8_t group[16]);
/* Every group wanted behind a target, until fn returns non-zero. */
int tlearn_foreach(const struct tlearn *tl, int (*fn)(void *ctx, uint8_t family,
						      const uint8_t group[16]), void *ctx);

#endif
