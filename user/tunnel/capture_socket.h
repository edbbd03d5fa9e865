/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Capture through sockets: one UDP socket per captured group, which joins
 * the group on the island interface (for snooping switches and for the
 * kernel to deliver it) and receives its datagrams: in socket mode all of
 * them, in tc and xdp mode only the reassembled fragments the BPF program
 * marked (everything else it puts in the ring).
 */
#ifndef MCTUN_CAPTURE_SOCKET_H
#define MCTUN_CAPTURE_SOCKET_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

#include "capture.h"
#include "config.h"

/* The host's addresses: a looped-back datagram from one of them, from a
 * send socket's port, is our own re-injection. */
struct local_addrs {
	uint8_t a[64][17];             /* family byte + address */
	unsigned int n;
};

int local_addrs_load(struct local_addrs *la);
bool local_addrs_has(const struct local_addrs *la, uint8_t family, const uint8_t *addr);

enum gsock_mode {
	GSOCK_ALL,                     /* socket mode: every datagram of the group */
	GSOCK_MARKED,                  /* only skbs marked MCTUN_FRAG_MARK (fragments) */
	GSOCK_JOIN,                    /* none: it only joins (a group of any port) */
};

/* A socket joined to group g (one address; any port only with GSOCK_JOIN)
 * on cfg's interface. Returns the fd or -errno (logged). */
int group_socket_open(const struct config *cfg, const struct mc_group *g, enum gsock_mode mode);
/* Closes a socket of group_socket_open(), which leaves the group (address
 * addr of family MCTUN_FAM_*); a negative fd is none. */
void group_socket_close(int fd, uint8_t family, const uint8_t addr[16]);

/* A packet socket that receives nothing and holds the interface in
 * all-multicast mode while it is open (the kernel counts holders, so
 * closing it undoes exactly this): a range in tc or xdp mode joins no
 * group, and a NIC would otherwise filter out the groups nobody on the
 * gateway joined. Returns the fd or -errno (logged). */
int allmulti_open(unsigned int ifindex, const char *ifname);

/*
 * Reads (a bounded number of) the datagrams waiting on group socket fd,
 * of group grp, and hands each to fn: all but our own re-injections looped
 * back (source port own_port[0] or [1], from a local address), which are
 * counted in *self.
 */
void capture_socket_read(int fd, const struct mc_group *grp, const struct local_addrs *la,
			 const uint16_t own_port[2], __u64 *self, capture_fn fn, void *ctx);

#endif
