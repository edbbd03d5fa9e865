/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Every counter of one instance, in one struct, read from its maps.
 *
 * The maps are those a running instance pins or the kernel holds for it
 * (mctun status, mctun stats) or the daemon's own (mctun run --metrics);
 * either way the same struct goes through the same renderers (render.h),
 * so what an operator reads with `mctun stats --prometheus` and what a
 * scraper reads over HTTP agree by construction.
 */
#ifndef MCTUN_COUNTERS_H
#define MCTUN_COUNTERS_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "addr.h"
#include "mctun.h"

struct counters_group {
	struct mc_group g;
	char name[GROUP_STRLEN];   /* group_str(g), for every renderer */
	__u32 id;                  /* index into mctun_gstats */
	__u32 flags;               /* MCTUN_GF_* of its entry (direction in, out) */
	bool have_st;              /* socket mode keeps no per-group counters */
	struct mctun_gstats st;
};

/* A local target (--to), slot i of mctun_targets and mctun_tstats. */
struct counters_target {
	char ifname[IF_NAMESIZE];  /* as configured; kept while its interface is gone */
	__u32 ifindex;             /* its interface in the instance's namespace; 0: gone */
	__u8 ttl;                  /* of the copies; 0: as the datagram came */
	__u8 flags;                /* MCTUN_TF_*: its direction, its groups */
	bool have_st;              /* its counters could be read */
	struct mctun_tstats st;
};

/* A group receivers behind targets joined: mask bit i, target slot i. */
struct counters_tgroup {
	struct mctun_tgroup_key k;
	__u32 mask;
};

struct counters {
	char dir[PATH_MAX];        /* pin directory; "" when read from the daemon */
	__u32 map_ids[MCTUN_IM_COUNT];  /* found through the kernel: its maps' ids, else 0 */
	char ifname[IF_NAMESIZE + 8];
	unsigned long netns;       /* 0: the host's */
	bool have_info, have_stats, have_dstats;
	struct mctun_info info;
	struct mctun_stats st;
	struct mctun_dstats ds;
	struct counters_group *groups;   /* sorted by id */
	unsigned int ngroups;
	struct mctun_peer_info *peers;
	unsigned int npeers;
	struct mctun_member_info *members;   /* groups learned on the island */
	unsigned int nmembers;
	struct mctun_want_info *wants;       /* what gateways in the tunnel want */
	unsigned int nwants;
	struct counters_target targets[MCTUN_MAX_TARGETS];   /* local targets (--to) */
	unsigned int ntargets;               /* 0: none, or maps without them */
	struct counters_tgroup *tgroups;     /* groups joined behind targets, sorted */
	unsigned int ntgroups;
	int err;                   /* first error opening or reading a map, -errno */
	/* counters_locate(): where its daemon is, as this process sees it */
	bool located, alive;
	bool foreign_pid;          /* in another pid namespace (a container) */
	pid_t local_pid;           /* its pid in our /proc; 0: unknown */
	char cgroup[256];          /* of a foreign_pid one: its cgroup v2 path, or "" */
};

/* Map fds to read from; -1 for a map not to read. */
struct counters_fds {
	int info, stats, gstats, groups, ranges, dstats, peers, members, wants, targets, tstats, tgroups;
};

/* Sums a per-CPU map value made only of __u64 fields into out. */
int stats_sum(int map_fd, unsigned int key, void *out, size_t size);

/* Reads the maps behind fds into c (its dir, ifname, netns are kept). */
void counters_read_fds(struct counters *c, const struct counters_fds *fds);
/* Reads the maps of c->map_ids when found through the kernel, else those
 * pinned in c->dir. */
void counters_read(struct counters *c);
void counters_free(struct counters *c);
/* Whether c's daemon runs and its pid as we see it, from the info read
 * (scans /proc: for the tools, not the daemon). */
void counters_locate(struct counters *c);

/* Instances found through the kernel's maps, or under PIN_ROOT. */
struct counters_list {
	struct counters *v;
	unsigned int n;
	int err;                   /* reading the pin root: -errno, 0 */
	bool by_pins;              /* the kernel's maps could not be walked */
};

/* Our network namespace in the pin layout: 0 when it is the host's. */
unsigned long counters_own_netns(void);
/* Every instance, live or stale, unread: those of network namespace own_ns
 * (every namespace's with all), on interface iface if not NULL; sorted by
 * namespace, then interface. Found through the kernel's maps (which needs
 * CAP_SYS_ADMIN), else through the pins under PIN_ROOT. */
void counters_scan(bool all, const char *iface, unsigned long own_ns, struct counters_list *l);
void counters_list_free(struct counters_list *l);

#endif
