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

#include <net/if.h>
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

/* TC filter identity of an instance: a restart finds stale filters by it. */
#define MCTUN_TC_HANDLE   0x4d43
#define MCTUN_TC_PRIO     0x4d43
/* ... and of its filter on each local target of direction out or both
 * (mctun_tc_tgt on the target's ingress): another handle, so that a target
 * may be another instance's island. */
#define MCTUN_TC_TGT_HANDLE 0x4d54

/* The pin names of an instance's maps, in MCTUN_IM_* order. */
extern const char *const instance_pin_names[MCTUN_IM_COUNT];

/* bpffs at PIN_ROOT_FS, mounted when nobody has (as bpftool does); 0 or
 * -errno (not logged). */
int instance_bpffs(void);
/* Pins the maps fds[MCTUN_IM_*] in dir, made as needed. 0 or -errno (not
 * logged). */
int instance_pin(const char *dir, const int fds[MCTUN_IM_COUNT]);
/* Removes dir's pins, then dir and its parents while they are empty. */
void instance_unpin(const char *dir);
/* The instance's record in its info map (fds[MCTUN_IM_INFO]): this process,
 * its namespaces, the interface, mode and MCTUN_INFO_* flags, its maps' ids. */
int instance_write_info(const int fds[MCTUN_IM_COUNT], unsigned int ifindex, const char *ifname,
			__u32 mode, __u32 flags);
/* The record's flags of mask, from flags. */
int instance_set_flags(int info_fd, __u32 mask, __u32 flags);

/* The pid of the instance that holds ifindex's lock (in our network
 * namespace), through the kernel's maps, or the pins in pin_dir without
 * CAP_SYS_ADMIN; 0 when it cannot be told (another pid namespace). */
__u32 instance_holder(unsigned int ifindex, const char *pin_dir);
/*
 * Removes what an instance killed without clean-up left on ifindex: its TC
 * filters, its XDP program, its clsact qdisc if it had made it, its pins
 * in pin_dir. Call it holding the interface's lock: whatever of ours is
 * attached then is stale. Says in one line what it cleared.
 */
void instance_clear_stale(unsigned int ifindex, const char *ifname, const char *pin_dir);
/*
 * Removes the target filter (MCTUN_TC_TGT_HANDLE) on ifindex's ingress if
 * it is mctun's and its instance runs no more (when that cannot be told,
 * without CAP_SYS_ADMIN: if `fallback`), and then the clsact qdisc if
 * qdisc_ours and no island filter of ours is on it. 1: removed; 0: none
 * there; -EBUSY: a running instance's (its pid in *pid, 0 if unknown).
 */
int instance_clear_target(unsigned int ifindex, bool qdisc_ours, bool fallback, __u32 *pid);
/* Is an island's filter of mctun (any instance's) on ifindex? Then the
 * clsact qdisc a target's filter came with stays when that goes. */
bool instance_island_filters(unsigned int ifindex);

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

/*
 * Every daemon states itself, whatever its mode, with an abstract Unix
 * socket in its network namespace named
 *   mctun/run/ifindex/N/iface/NAME/mode/MODE/pid/PID/pidns/INODE
 * (MODE tc, xdp or socket; PID in the pid namespace of that inode), which
 * the kernel removes with its holder, even on SIGKILL. A socket-mode
 * daemon has no BPF maps to be found by, and needs no capability for this.
 * Called once at start; the socket stays open until the process exits.
 * Returns 0 or -errno (with one line logged).
 */
int instance_announce(__u32 mode, unsigned int ifindex, const char *ifname);

/* A running daemon, as its instance_announce() socket states it. */
struct instance_ann {
	__u32 mode;                 /* MCTUN_MODE_* */
	unsigned int ifindex;       /* in the network namespace netns */
	char ifname[IF_NAMESIZE];   /* at its start */
	__u32 pid;                  /* as stated: in the pid namespace pidns */
	__u64 pidns;
	pid_t local_pid;            /* the same process in our /proc; 0: not found */
	__u64 netns;                /* its network namespace's inode */
};

/*
 * The daemons that stated themselves in our network namespace, or in
 * every one with all, from /proc/net/unix (and /proc/PID/net/unix).
 * local_pid comes from the pid stated when the daemon shares our pid
 * namespace, else from the socket's owner in /proc/PID/fd (root only).
 * Returns the number found (*out to free), or -errno.
 */
int instances_announced(bool all, struct instance_ann **out);

/* Inode of a namespace of ours ("net", "pid"); 0 when unreadable. */
__u64 instance_own_ns(const char *kind);
/* Inode of the host's network namespace (pid 1's, when pid 1 is the
 * host's); 0 when it cannot be told (in a container, on an older kernel). */
__u64 instance_host_netns(void);

/*
 * The daemon described by info, in our /proc: *alive says whether it still
 * runs; returns its pid as we see it, 0 when unknown. In our pid namespace
 * that is the pid it wrote; in another (a container), the process holding
 * its info map open whose pid there (NSpid) is the one it wrote.
 */
pid_t instance_locate(const struct mctun_info *info, bool *alive);

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
