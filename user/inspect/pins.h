/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Where a running instance pins the maps an operator reads:
 *   /sys/fs/bpf/mctun/IFNAME/            in the host's network namespace
 *   /sys/fs/bpf/mctun/netnsINODE/IFNAME/ in any other
 * each holding stats, gstats, groups and info (struct mctun_info).
 */
#ifndef MCTUN_PINS_H
#define MCTUN_PINS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define PIN_ROOT_FS "/sys/fs/bpf"
#define PIN_ROOT    PIN_ROOT_FS "/mctun"

int pin_dir_for(const char *ifname, char *buf, size_t len);
/* Is pid a running mctun? (kill 0 plus its comm, against pid reuse) */
bool pid_is_mctun(pid_t pid);
/* Sums a per-CPU map value made only of __u64 fields into out. */
int stats_sum(int map_fd, unsigned int key, void *out, size_t size);

#endif
