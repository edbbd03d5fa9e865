/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Where another network namespace is reached from this one: the host end
 * of a veth pair whose other end lives there, as a container's network is
 * reached (directly, or as a port of the bridge it hangs off). Used by
 * --netns to find a local target's interface, and again each tick to
 * follow a namespace that was made anew (a restarted container).
 */
#ifndef MCTUN_NETNS_H
#define MCTUN_NETNS_H

#include <stdint.h>

/*
 * The index, in the caller's network namespace, of the veth whose peer is
 * in the namespace at path (a bind mount such as /run/netns/NAME, or
 * /proc/PID/ns/net); with several, the one whose peer has the lowest index
 * there (a container's first interface). *ino: the namespace's inode.
 * Holds no reference to the namespace afterwards. Returns 0, or -errno:
 * -ENOENT no such path, -EINVAL not a network namespace, -ENODEV no veth
 * leads there from here, -EPERM without CAP_SYS_ADMIN.
 */
int netns_link_in(const char *path, unsigned int *ifindex, uint64_t *ino);
/* The same, through the interface there whose address is mac (6 bytes;
 * NULL: any, as netns_link_in): a container's on one of its networks. */
int netns_link_in_mac(const char *path, const unsigned char *mac, unsigned int *ifindex,
		      uint64_t *ino);
/* The bridge (master) interface ifindex of this namespace is a port of, 0
 * if none. Asks rtnetlink: /sys shows the namespace it was mounted in. */
int link_master(unsigned int ifindex, unsigned int *master);

#endif
