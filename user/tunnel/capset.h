/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the gateway captures on its island, as one list of groups: the
 * entries of the BPF program's groups and ranges maps, and the sockets
 * that join each group on the interface (and take the reassembled
 * fragments the program marks, or, in socket mode, every datagram). The
 * list is the configuration's groups, or, when every peer subscribes,
 * what someone wants of them (interest.c); groups that leave the list
 * may be held a while, against flapping.
 */
#ifndef MCTUN_CAPSET_H
#define MCTUN_CAPSET_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "config.h"
#include "event.h"
#include "groups.h"

struct capture_bpf;

/* A socket joined to a captured group: its epoll source. */
struct gsock {
	struct src src;                /* first: epoll data points here */
	struct mc_group g;             /* what its datagrams are */
};

struct capset_entry {
	struct cfg_group gc;
	struct gsock *gs;              /* NULL: none (a range, direction in) */
	uint64_t remove_at;            /* 0: in the list; else taken out then */
};

struct capset {
	struct capset_entry *v;        /* sorted by gc.g */
	unsigned int n;
	struct group_entry *bpf;       /* what the BPF maps hold */
	unsigned int nbpf;
	__u32 kinds;
	bool targets;                  /* local targets (--to): address entries for all */
	struct capture_bpf *cap;       /* NULL in socket mode */
	int epfd;
	uint64_t next;                 /* the first remove_at */
	__u64 join_errors;             /* sockets that could not open or join */
};

void capset_init(struct capset *cs, struct capture_bpf *cap, int epfd);
/*
 * Never called while the loop dispatches a batch of events (a socket it
 * closes may have one in the batch): from the end of a pass, or a reload.
 *
 * Capture groups list[0..n) (cfg_groups with their ids; exact groups,
 * groups of any port, ranges, direction in) on cfg's interface from now
 * on. A group that leaves the list is captured holddown_ns longer (0: not
 * at all). Sockets that cannot be opened are logged and counted; the
 * rest goes on. Returns 0, or -errno when the BPF maps could not be
 * brought to the list (logged).
 */
int capset_apply(struct capset *cs, const struct config *cfg, const struct cfg_group *list,
		 unsigned int n, uint64_t now, uint64_t holddown_ns);
/* Ends the hold-downs that are due. */
void capset_tick(struct capset *cs, uint64_t now);
/* Is a group of this exact key captured (in the list or held)? */
bool capset_has(const struct capset *cs, const struct mc_group *g);
void capset_free(struct capset *cs);

#endif
