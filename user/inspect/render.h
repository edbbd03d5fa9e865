/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Counters written out: names, tables, JSON and the Prometheus format. */
#ifndef MCTUN_RENDER_H
#define MCTUN_RENDER_H

#include <stddef.h>
#include <stdio.h>

#include "counters.h"

/* One __u64 field of a counter struct, by name, for tables and JSON. */
struct counter_field {
	const char *name;
	size_t off;
};

extern const struct counter_field bpf_fields[];      /* struct mctun_stats */
extern const unsigned int n_bpf_fields;
extern const struct counter_field daemon_fields[];   /* struct mctun_dstats, without node_id */
extern const unsigned int n_daemon_fields;

static inline unsigned long long counter_get(const void *s, const struct counter_field *f)
{
	__u64 v;

	__builtin_memcpy(&v, (const char *)s + f->off, sizeof(v));
	return v;
}

/* The line of a located instance in another pid namespace: its pid there,
 * the namespace and its cgroup. */
void counters_pidns_line(FILE *f, const struct counters *c, const char *indent);

/* Names for the values kept in the maps. */
const char *counters_mode_name(__u32 mode);
/* A group's direction from its MCTUN_GF_* flags: "both", "in" or "out". */
const char *counters_direction_name(__u32 flags);
/* A local target's direction (its MCTUN_TF_* flags): "in", "out", "both". */
const char *target_direction_name(__u8 flags);
/* How peers authenticate, from MCTUN_INFO_* flags: "none" (--insecure),
 * "psk", "tls", or "unknown"; and the same in words for people. */
const char *counters_auth_name(__u32 flags);
const char *counters_auth_desc(__u32 flags);
const char *counters_peer_state(__u8 state);
/* MCTUN_TRANSPORT_*: "tcp", "mptcp", "fallback" (asked for MPTCP, on TCP). */
const char *counters_transport_name(__u8 transport);
const char *counters_peer_addr(const struct mctun_peer_info *p, char *buf, size_t len);
/* Seconds from CLOCK_REALTIME ns to now (ns), 0 for a zero time. */
double counters_since_s(__u64 ns, __u64 now);
/* "12.3s", "4m05s", "2h03m10s", "3d04h10m". Returns buf. */
const char *counters_duration(double s, char *buf, size_t len);

/* A learned group for people: "239.192.1.1 exclude {}",
 * "232.1.1.1 include {198.18.1.2, ...}". Returns buf. */
const char *counters_member_str(const struct mctun_member_info *m, char *buf, size_t len);

/* A gateway's want for people: "239.192.1.1:*", "232.1.1.1:* from 1
 * source", "all". Returns buf. */
const char *counters_want_str(const struct mctun_want_info *w, char *buf, size_t len);

/* One JSON object (no newline); alive: the daemon's pid still runs. */
void counters_json(FILE *f, const struct counters *c, bool alive, __u64 now);
/* Tables for people. */
void counters_table(FILE *f, const struct counters *c, bool alive, __u64 now);
/* The Prometheus text exposition format (version 0.0.4), every family
 * with its HELP and TYPE lines. */
void counters_prometheus(FILE *f, const struct counters *c);

#endif
