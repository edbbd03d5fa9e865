/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Multipath TCP (--transport mptcp): the tunnel's stream sockets, what a
 * connection became, and the in-kernel path manager's configuration (the
 * endpoints and limits `ip mptcp` sets) for mctun doctor.
 */
#ifndef MCTUN_MPTCP_H
#define MCTUN_MPTCP_H

#include <stdbool.h>
#include <stdint.h>

/* A non-blocking, close-on-exec stream socket of address family af: MPTCP
 * when mptcp, else TCP; TCP too when the kernel has no MPTCP (said once in
 * the log). Returns it or -errno. */
int stream_socket(int af, bool mptcp);

/* Does err (from stream_socket with mptcp) mean the kernel has no MPTCP
 * (not built, or net.mptcp.enabled 0) rather than some other failure? */
bool mptcp_missing(int err);

/* What the connected socket fd carries: MCTUN_TRANSPORT_TCP (a TCP
 * socket), MCTUN_TRANSPORT_MPTCP with its subflows now, or
 * MCTUN_TRANSPORT_FALLBACK (an MPTCP socket on plain TCP: the peer or a
 * middlebox did not take MPTCP). */
uint8_t mptcp_conn_state(int fd, bool mptcp, unsigned int *subflows);

#define MPTCP_MAX_ENDPOINTS 16

struct mptcp_endpoint {
	uint8_t family;          /* MCTUN_FAM_* */
	uint8_t id;
	uint16_t port;           /* 0: none */
	uint32_t flags;          /* MPTCP_PM_ADDR_FLAG_* */
	int ifindex;             /* 0: any */
	uint8_t addr[16];
};

struct mptcp_pm {
	uint32_t subflows;          /* limits: extra subflows per connection */
	uint32_t add_addr_accepted; /* ... addresses a peer announces that we use */
	unsigned int n;             /* endpoints, at most MPTCP_MAX_ENDPOINTS listed */
	struct mptcp_endpoint ep[MPTCP_MAX_ENDPOINTS];
};

/* The path manager's limits and endpoints in this network namespace,
 * through generic netlink (family "mptcp_pm"). Returns 0 or -errno
 * (-ENOENT: the kernel has no MPTCP path manager). */
int mptcp_pm_read(struct mptcp_pm *pm);

#endif
