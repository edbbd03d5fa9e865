/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Strict parsers and small helpers. Parsers return 0 or -errno and print
 * one line naming the option, the value and the cause. */
#ifndef MCTUN_UTIL_H
#define MCTUN_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "json.h"    /* json_string(), for the callers that include only this */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Unsigned integer in [min, max]; decimal or 0x hex, nothing trailing. */
int parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out);
int parse_u32(const char *opt, const char *s, uint32_t min, uint32_t max, uint32_t *out);
/* Seconds with an optional fraction and unit suffix (ms, s, m): "1.5", "250ms". */
int parse_seconds(const char *opt, const char *s, double min, double max, double *out);
/* Size in bytes with an optional K/M/G suffix (powers of 1024). */
int parse_size(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out);

uint64_t now_ns(void);          /* CLOCK_MONOTONIC */
uint64_t realtime_ns(void);     /* CLOCK_REALTIME */

/* Interface name to index, with a clear message when it does not exist. */
int iface_index(const char *name, unsigned int *ifindex);

/* Capability numbers (linux/capability.h; CAP_BPF is newer than some headers). */
#define CAPN_NET_ADMIN 12
#define CAPN_NET_RAW   13
#define CAPN_SYS_ADMIN 21
#define CAPN_PERFMON   38
#define CAPN_BPF       39

/* The effective capability set, from /proc/self/status; 0 when unreadable. */
unsigned long long cap_effective(void);
static inline bool cap_has(unsigned long long caps, int cap)
{
	return caps & (1ull << cap);
}

/* Random bytes from getrandom(); -errno on failure. */
int random_bytes(void *buf, size_t len);

/* setsockopt() of one int; on failure one line "WHO: set WHAT: cause", -errno. */
int set_sockopt_int(int fd, int level, int name, int val, const char *who, const char *what);

/* getopt_long (with a leading ':' in its option string) returned c, ':'
 * for a missing value or '?' for an unknown option, to subcommand cmd: one
 * line naming the option; -EINVAL. */
int opt_error(const char *cmd, int c, char *const argv[]);

#endif
