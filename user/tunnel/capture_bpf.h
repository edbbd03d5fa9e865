/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The BPF loader of tc and xdp mode: open the object, configure it, load
 * it, attach to the interface (TC ingress and egress, XDP), and drain the
 * ring into a callback; it knows nothing of the daemon that uses it. The
 * instance's record (lock, pins, mctun_info, a killed predecessor's
 * leftovers) goes through user/inspect/instances.h.
 */
#ifndef MCTUN_CAPTURE_BPF_H
#define MCTUN_CAPTURE_BPF_H

#include <stdbool.h>
#include <stdint.h>

#include "capture.h"
#include "config.h"
#include "groups.h"
#include "mctun.h"

struct capture_bpf;
struct counters_fds;

/* An IGMP or MLD message from the ring: ev as the BPF program wrote it
 * (group_id MCTUN_GID_MEMBERSHIP; include/mctun.h says what each field
 * holds), msg its ev->len bytes from the IGMP or ICMPv6 header on, as
 * received and unchecked beyond the type. */
typedef void (*capture_mship_fn)(void *ctx, const struct mctun_event *ev, const uint8_t *msg,
				 uint32_t len);

/* Checks, loads and attaches (after clearing what a killed instance left
 * on the interface); each datagram from the ring goes to fn. learn has the
 * program hand on the IGMP and MLD messages arriving on the interface;
 * each goes to mship_fn, never to fn (mship_fn NULL: dropped, counted in
 * capture_bpf_mship_dropped()). Both get ctx. On failure, one line is
 * logged, -errno returned, and *out is still to be closed. */
int capture_bpf_open(const struct config *cfg, bool learn, capture_fn fn,
		     capture_mship_fn mship_fn, void *ctx, struct capture_bpf **out);
/* Membership messages dropped for want of an mship_fn (logged with the
 * other counters by capture_bpf_log_stats() when learn is on). */
uint64_t capture_bpf_mship_dropped(const struct capture_bpf *tc);
int capture_bpf_ring_fd(struct capture_bpf *tc);
/* The map the learned groups are published in (mctun_members). */
int capture_bpf_members_fd(struct capture_bpf *tc);
/* The map peers' wants are published in (mctun_wants). */
int capture_bpf_wants_fd(struct capture_bpf *tc);
/* Drains the ring: the records read (to the callbacks), or -errno. */
int capture_bpf_poll(struct capture_bpf *tc);
/* quiet: records no longer wake the ring's epoll fd (but for one when a
 * quarter of the ring fills), for a caller that drains on a timer; off:
 * each record wakes a caller that has caught up. Records submitted around
 * the switch off may still be silent: drain once more after it. */
void capture_bpf_set_quiet(struct capture_bpf *tc, bool quiet);
int capture_bpf_set_selfport(struct capture_bpf *tc, uint16_t port);
/* --to: follows each target's name to its current interface (deleted and
 * made again, as a container's veth is on restart), logging the changes. */
void capture_bpf_targets_refresh(struct capture_bpf *tc, const struct config *cfg);
/* Target i's interface index now (0: gone), its interface's name, and
 * the map of the groups wanted behind targets (mctun_tgroups). */
unsigned int capture_bpf_target_ifindex(const struct capture_bpf *tc, unsigned int i);
const char *capture_bpf_target_ifname(const struct capture_bpf *tc, const struct config *cfg,
				      unsigned int i);
int capture_bpf_tgroups_fd(struct capture_bpf *tc);
/* mctun_localrx (localrx.h), and whether the program may trust it: until
 * it is told so, no datagram ends in the program. */
int capture_bpf_localrx_fd(struct capture_bpf *tc);
void capture_bpf_set_localrx_known(struct capture_bpf *tc, bool known);
void capture_bpf_log_stats(struct capture_bpf *tc, const struct config *cfg);
/* Bring the groups and ranges maps from entries a (groups_bpf_entries,
 * with their range kinds) to b, touching only the entries that differ. */
int capture_bpf_sync(struct capture_bpf *tc, const struct group_entry *a, unsigned int na,
		     __u32 kinds_a, const struct group_entry *b, unsigned int nb, __u32 kinds_b);
/* The info map's flags from cfg (config_auth_flags()): after a reload
 * that changed the listeners. */
int capture_bpf_update_info(struct capture_bpf *tc, const struct config *cfg);
/* Counters of a group id at zero, before a new group takes it. */
int capture_bpf_zero_gstats(struct capture_bpf *tc, uint32_t id);
/* Publish the daemon's counters and peer table in the pinned maps. */
void capture_bpf_publish(struct capture_bpf *tc, const struct mctun_dstats *st,
			const struct mctun_peer_info *peers, unsigned int npeers);
void capture_bpf_close(struct capture_bpf *tc);
/* The maps `mctun stats` reads from the pins: info, stats, gstats, groups
 * (dstats and peers: -1, the daemon has them in memory). */
void capture_bpf_fds(struct capture_bpf *tc, struct counters_fds *fds);

#endif
