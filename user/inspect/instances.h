/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The kernel-side state of running instances: the per-interface lock a
 * daemon holds, where it pins its maps, and finding instances (live or
 * stale) through the kernel's own BPF objects, however the daemon was
 * started (nsenter, ip netns exec, a container, systemd). Pins are only a
 * shortcut for tools that lack CAP_SYS_ADMIN, which walking the kernel's
 * maps by id needs.
 */
#ifndef MCTUN_INSTANCES_H
#define MCTUN_INSTANCES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>

#include "mctun.h"

/*
 * Where a running instance pins the maps an operator reads:
 *   /sys/fs/bpf/mctun/IFNAME/            in the host's network namespace
 *   /sys/fs/bpf/mctun/netnsINODE/IFNAME/ in any other
 * each holding stats, gstats, groups and info (struct mctun_info).
 */
#define PIN_ROOT_FS "/sys/fs/bpf"
#define PIN_ROOT    PIN_ROOT_FS "/mctun"

/* The pin directory of an instance on ifname in our network namespace. */
int pin_dir_for(const char *ifname, char *buf, size_t len);
/* Is pid a running mctun? (kill 0 plus its comm, against pid reuse) */
bool pid_is_mctun(pid_t pid);

/*
 * Takes the lock of interface ifindex in our network namespace: an
 * abstract Unix socket, which the kernel releases when its holder dies,
 * even by SIGKILL, and which every mount namespace shares. Returns the
 * socket (keep it open while running), -EBUSY while another process holds
 * it, or another -errno.
 */
int instance_lock(unsigned int ifindex);

/* Inode of a namespace of ours ("net", "pid"); 0 when unreadable. */
__u64 instance_own_ns(const char *kind);
/* Inode of the host's network namespace (pid 1's); 0 when unreadable. */
__u64 instance_host_netns(void);

/*
 * Does the daemon described by info still run? By its pid when it shares
 * our pid namespace; otherwise by looking for a process that holds its
 * info map open.
 */
bool instance_alive(const struct mctun_info *info);

/*
 * Calls fn for every instance's info map the kernel holds, live or stale,
 * with the info it holds (maps of another build's layout are skipped).
 * Returns 0, or -EPERM when this process may not walk the kernel's maps
 * (without CAP_SYS_ADMIN): then only pins can tell.
 */
typedef void (*instance_fn)(const struct mctun_info *info, void *ctx);
int instances_walk(instance_fn fn, void *ctx);

/* An fd for map id, or -errno. */
int instance_map_fd(__u32 id);

/*
 * The info map among a program's maps (a TC filter or XDP program found on
 * an interface): its content in *info. Returns 0, -ENOENT, or -errno.
 */
int instance_info_of_prog(__u32 prog_id, struct mctun_info *info);

#endif
