// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <ifaddrs.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_packet.h>

#include "capture_socket.h"
#include "localrx.h"
#include "log.h"
#include "util.h"

#define GROUP_RCVBUF (4 << 20)
#define RECV_BATCH   16

/* A big buffer: FORCE works for root and CAP_NET_ADMIN, else the sysctl cap. */
static void set_buf(int fd, int force_opt, int opt, int bytes)
{
	if (setsockopt(fd, SOL_SOCKET, force_opt, &bytes, sizeof(bytes)) < 0)
		setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof(bytes));
}

/* Accept only skbs whose mark carries MCTUN_FRAG_MARK: the reassembled
 * fragments the TC program marked. Everything else the ring has. */
static const struct sock_filter frag_only[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_MARK),
	BPF_STMT(BPF_ALU | BPF_AND | BPF_K, MCTUN_FRAG_MARK),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MCTUN_FRAG_MARK, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
	BPF_STMT(BPF_RET | BPF_K, 0),
};

/* Refuse our own re-injections under --keep-source (socket mode): their
 * source is another host's, so only the mark tells them apart. */
static const struct sock_filter not_self[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_MARK),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MCTUN_SELF_MARK, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, 0),
	BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
};

static int attach_filter(int fd, const char *obj, const struct sock_filter *code,
			 unsigned short len)
{
	struct sock_fprog prog = { .len = len, .filter = (struct sock_filter *)code };

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0) {
		int err = -errno;

		pr_warn("%s: attach socket filter: %s\n", obj, strerror(-err));
		return err;
	}
	return 0;
}

int allmulti_open(unsigned int ifindex, const char *ifname)
{
	struct packet_mreq mr = { .mr_ifindex = ifindex, .mr_type = PACKET_MR_ALLMULTI };
	/* protocol 0: no packet is ever queued to it */
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0), err;

	if (fd < 0) {
		err = -errno;
		pr_warn("interface %s: all-multicast for the ranges: socket: %s\n", ifname,
			strerror(-err));
		return err;
	}
	if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0) {
		err = -errno;
		pr_warn("interface %s: all-multicast for the ranges: %s\n", ifname, strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}

static bool link_scope(const struct mc_group *g)
{
	return g->family == MCTUN_FAM_INET6 && (g->addr[1] & 0x0f) <= 2;
}

int group_socket_open(const struct config *cfg, const struct mc_group *g, enum gsock_mode mode)
{
	bool marked_only = mode == GSOCK_MARKED;
	int af = fam_to_af(g->family), lvl = af == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;
	struct sockaddr_storage ss;
	char name[GROUP_STRLEN];
	socklen_t len;
	int fd, err;

	group_str(g, name, sizeof(name));
	fd = socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		pr_warn("group %s: socket: %s\n", name, strerror(-err));
		return err;
	}
	/* Filter first, so nothing unwanted is queued before it applies. */
	if (marked_only && (err = attach_filter(fd, name, frag_only, ARRAY_SIZE(frag_only))))
		goto fail;
	if (mode == GSOCK_ALL && cfg->keep_source &&
	    (err = attach_filter(fd, name, not_self, ARRAY_SIZE(not_self))))
		goto fail;
	if ((err = set_sockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1, name, "SO_REUSEADDR")))
		goto fail;
	if (af == AF_INET6) {
		if ((err = set_sockopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1, name, "IPV6_V6ONLY")) ||
		    (err = set_sockopt_int(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1, name, "IPV6_RECVHOPLIMIT")) ||
		    (err = set_sockopt_int(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, 1, name, "IPV6_RECVTCLASS")))
			goto fail;
		/* only the groups this socket joined, not every group on the host */
		set_sockopt_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, 0, name, "IPV6_MULTICAST_ALL");
	} else {
		if ((err = set_sockopt_int(fd, IPPROTO_IP, IP_RECVTTL, 1, name, "IP_RECVTTL")) ||
		    (err = set_sockopt_int(fd, IPPROTO_IP, IP_RECVTOS, 1, name, "IP_RECVTOS")) ||
		    (err = set_sockopt_int(fd, IPPROTO_IP, IP_MULTICAST_ALL, 0, name, "IP_MULTICAST_ALL")))
			goto fail;
	}
	if (mode != GSOCK_JOIN)
		set_buf(fd, SO_RCVBUFFORCE, SO_RCVBUF, GROUP_RCVBUF);

	/* Bound to the group address: only this group's datagrams arrive. A
	 * socket that only joins stays unbound and receives nothing. */
	len = addr_sockaddr(g->family, g->addr, g->port, link_scope(g) ? cfg->ifindex : 0, &ss);
	if (mode != GSOCK_JOIN && bind(fd, (struct sockaddr *)&ss, len) < 0) {
		err = -errno;
		pr_warn("group %s: bind: %s\n", name, strerror(-err));
		goto fail;
	}

	if (g->ssm) {
		struct group_source_req r = { .gsr_interface = cfg->ifindex };

		addr_sockaddr(g->family, g->addr, 0, 0, &r.gsr_group);
		addr_sockaddr(g->family, g->src, 0, 0, &r.gsr_source);
		if (setsockopt(fd, lvl, MCAST_JOIN_SOURCE_GROUP, &r, sizeof(r)) < 0) {
			err = -errno;
			pr_warn("group %s: join on %s: %s\n", name, cfg->ifname, strerror(-err));
			goto fail;
		}
	} else {
		struct group_req r = { .gr_interface = cfg->ifindex };

		addr_sockaddr(g->family, g->addr, 0, 0, &r.gr_group);
		if (setsockopt(fd, lvl, MCAST_JOIN_GROUP, &r, sizeof(r)) < 0) {
			err = -errno;
			pr_warn("group %s: join on %s: %s\n", name, cfg->ifname, strerror(-err));
			goto fail;
		}
	}
	/* one join of the kernel's count is ours (localrx.h) */
	localrx_own_join(g->family, g->addr);
	return fd;
fail:
	close(fd);
	return err;
}

void group_socket_close(int fd, uint8_t family, const uint8_t addr[16])
{
	if (fd < 0)
		return;
	close(fd);
	localrx_own_leave(family, addr);
}

int local_addrs_load(struct local_addrs *la)
{
	struct ifaddrs *ifa, *i;
	uint16_t port;

	if (getifaddrs(&ifa) < 0)
		return -errno;
	la->n = 0;
	for (i = ifa; i && la->n < ARRAY_SIZE(la->a); i = i->ifa_next) {
		uint8_t *slot = la->a[la->n];

		if (!i->ifa_addr || sockaddr_addr(i->ifa_addr, &slot[0], slot + 1, &port))
			continue;
		la->n++;
	}
	freeifaddrs(ifa);
	return 0;
}

bool local_addrs_has(const struct local_addrs *la, uint8_t family, const uint8_t *addr)
{
	unsigned int i;

	for (i = 0; i < la->n; i++)
		if (la->a[i][0] == family &&
		    !memcmp(la->a[i] + 1, addr, family == MCTUN_FAM_INET ? 4 : 16))
			return true;
	return false;
}

void capture_socket_read(int fd, const struct mc_group *grp, const struct local_addrs *la,
			 const uint16_t own_port[2], __u64 *self, capture_fn fn, void *ctx)
{
	static uint8_t bufs[RECV_BATCH][DATA_MAX_PAYLOAD + 1];
	static union {
		char buf[CMSG_SPACE(sizeof(int)) * 2];
		struct cmsghdr align;
	} ctl[RECV_BATCH];
	struct sockaddr_storage from[RECV_BATCH];
	struct mmsghdr msg[RECV_BATCH];
	struct iovec iov[RECV_BATCH];
	int round, i, n;

	for (round = 0; round < 4; round++) {
		for (i = 0; i < RECV_BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = sizeof(bufs[i]);
			memset(&msg[i], 0, sizeof(msg[i]));
			msg[i].msg_hdr.msg_name = &from[i];
			msg[i].msg_hdr.msg_namelen = sizeof(from[i]);
			msg[i].msg_hdr.msg_iov = &iov[i];
			msg[i].msg_hdr.msg_iovlen = 1;
			msg[i].msg_hdr.msg_control = ctl[i].buf;
			msg[i].msg_hdr.msg_controllen = sizeof(ctl[i].buf);
		}
		n = recvmmsg(fd, msg, RECV_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		for (i = 0; i < n; i++) {
			struct data_hdr h = { .ttl = 0, .tos = 0 };
			struct cmsghdr *c;
			uint8_t fam;

			if (sockaddr_addr((struct sockaddr *)&from[i], &fam, h.src, &h.sport) ||
			    (msg[i].msg_hdr.msg_flags & MSG_TRUNC))
				continue;
			/* Our own re-injection, looped back (large ones are marked). */
			if ((h.sport == own_port[0] || h.sport == own_port[1]) &&
			    local_addrs_has(la, fam, h.src)) {
				(*self)++;
				continue;
			}
			for (c = CMSG_FIRSTHDR(&msg[i].msg_hdr); c;
			     c = CMSG_NXTHDR(&msg[i].msg_hdr, c)) {
				int v = c->cmsg_len >= CMSG_LEN(sizeof(int)) ?
					*(int *)CMSG_DATA(c) : *(uint8_t *)CMSG_DATA(c);

				if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
				    (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT))
					h.ttl = v;
				else if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS) ||
					 (c->cmsg_level == IPPROTO_IPV6 &&
					  c->cmsg_type == IPV6_TCLASS))
					h.tos = v;
			}
			h.family = grp->family;
			memcpy(h.group, grp->addr, 16);
			h.dport = grp->port;
			fn(ctx, &h, bufs[i], msg[i].msg_len);
		}
		if (n < RECV_BATCH)
			return;
	}
}
