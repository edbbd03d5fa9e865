/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Local receivers: which groups some socket on this host other than the
 * daemon's own has joined on the island interface. The kernel counts the
 * joins of each group per interface (/proc/net/igmp "Users", the users
 * column of /proc/net/igmp6, both of the network namespace); the daemon
 * counts its own (every group socket, group_socket_open() and
 * group_socket_close()) and takes them off. A group left with a join has
 * a local receiver: its datagrams from the island climb the stack and
 * re-injections of it are looped back; the others' captured datagrams end
 * in the BPF program and their re-injections go out without loopback.
 */
#ifndef MCTUN_LOCALRX_H
#define MCTUN_LOCALRX_H

#include <stdbool.h>
#include <stdint.h>

/* A group address: family MCTUN_FAM_*, IPv4 in the first 4 bytes. */
struct localrx_key {
	uint8_t family;
	uint8_t addr[16];
};

struct localrx {
	struct localrx_key *v;         /* groups with a local receiver, sorted */
	unsigned int n;
	bool known;                    /* v is whole and current: the others have none */
	bool warned;                   /* a failure to read was logged */
};

/* The daemon's own joins on the island: one more, one less of a group
 * address (every socket that joins it counts once, as the kernel does). */
void localrx_own_join(uint8_t family, const uint8_t addr[16]);
void localrx_own_leave(uint8_t family, const uint8_t addr[16]);

/*
 * Reads the kernel's counts for interface ifindex and sets l to the
 * groups left with a join once the daemon's are taken off; map_fd (>= 0)
 * is mctun_localrx, made to hold the same. When a count cannot be read,
 * or there are more than MCTUN_MAX_LOCALRX such groups, l->known is false:
 * every group is taken to have a receiver. Returns true when a group
 * gained or lost its receivers (or known changed).
 */
bool localrx_refresh(struct localrx *l, unsigned int ifindex, int map_fd);
/* Does a local application want the group? Yes unless l->known says no. */
bool localrx_has(const struct localrx *l, uint8_t family, const uint8_t addr[16]);
void localrx_free(struct localrx *l);

#endif
