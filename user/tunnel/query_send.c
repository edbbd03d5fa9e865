// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/types.h>

#include "log.h"
#include "query_send.h"
#include "util.h"

void query_send_init(struct query_send *qs, __u64 *errors)
{
	*qs = (struct query_send){ .fd = { -1, -1 }, .errors = errors };
}

/* A raw socket receives a copy of what it could send; we only send. */
static int drop_all_input(int fd, int fi)
{
	struct sock_filter ret0 = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog prog = { .len = 1, .filter = &ret0 };

	if (fi) {
		struct icmp6_filter f;

		ICMP6_FILTER_SETBLOCKALL(&f);
		if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f)) < 0)
			return -errno;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
		return -errno;
	return 0;
}

static int open_family(int fi, unsigned int ifindex, const char *ifname)
{
	const char *obj = fi ? "MLD query socket" : "IGMP query socket";
	int fd, err;

	fd = socket(fi ? AF_INET6 : AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    fi ? IPPROTO_ICMPV6 : IPPROTO_IGMP);
	if (fd < 0) {
		err = -errno;
		pr_warn("%s: %s%s\n", obj, strerror(-err),
			err == -EPERM ? " (the querier needs CAP_NET_RAW)" : "");
		return err;
	}
	err = drop_all_input(fd, fi);
	if (err) {
		pr_warn("%s: filtering its input: %s\n", obj, strerror(-err));
		goto fail;
	}
	if (fi) {
		/* hop-by-hop header: router alert (MLD), PadN(0); RFC 3810 §5 */
		static const uint8_t hbh[8] = { 0, 0, 5, 2, 0, 0, 1, 0 };

		if ((err = set_sockopt_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, ifindex, obj,
					   "IPV6_MULTICAST_IF")) ||
		    (err = set_sockopt_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 1, obj,
					   "IPV6_MULTICAST_HOPS")) ||
		    (err = set_sockopt_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0, obj,
					   "IPV6_MULTICAST_LOOP")))
			goto fail;
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_HOPOPTS, hbh, sizeof(hbh)) < 0) {
			err = -errno;
			pr_warn("%s: IPV6_HOPOPTS: %s\n", obj, strerror(-err));
			goto fail;
		}
	} else {
		/* router alert, RFC 2113; RFC 3376 §4 */
		static const uint8_t ra[4] = { 0x94, 0x04, 0, 0 };
		struct ip_mreqn mr = { .imr_ifindex = ifindex };

		if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr)) < 0) {
			err = -errno;
			pr_warn("%s: IP_MULTICAST_IF: %s\n", obj, strerror(-err));
			goto fail;
		}
		/* TOS 0xc0 (internetwork control), as IGMP hosts and routers send */
		if ((err = set_sockopt_int(fd, IPPROTO_IP, IP_MULTICAST_TTL, 1, obj,
					   "IP_MULTICAST_TTL")) ||
		    (err = set_sockopt_int(fd, IPPROTO_IP, IP_TOS, 0xc0, obj, "IP_TOS")) ||
		    (err = set_sockopt_int(fd, IPPROTO_IP, IP_MULTICAST_LOOP, 0, obj,
					   "IP_MULTICAST_LOOP")))
			goto fail;
		if (setsockopt(fd, IPPROTO_IP, IP_OPTIONS, ra, sizeof(ra)) < 0) {
			err = -errno;
			pr_warn("%s: IP_OPTIONS: %s\n", obj, strerror(-err));
			goto fail;
		}
	}
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, strlen(ifname)) < 0) {
		err = -errno;
		pr_warn("%s: SO_BINDTODEVICE %s: %s\n", obj, ifname, strerror(-err));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return err;
}

int query_send_open(struct query_send *qs, unsigned int ifindex, const char *ifname)
{
	int fi, fd, err = 0;

	qs->ifindex = ifindex;
	for (fi = 0; fi < 2; fi++) {
		fd = open_family(fi, ifindex, ifname);
		if (fd < 0)
			err = fd;
		else
			qs->fd[fi] = fd;
	}
	query_send_addrs(qs);
	return qs->fd[0] < 0 && qs->fd[1] < 0 ? err : 0;
}

void query_send_close(struct query_send *qs)
{
	int fi;

	for (fi = 0; fi < 2; fi++) {
		if (qs->fd[fi] >= 0)
			close(qs->fd[fi]);
		qs->fd[fi] = -1;
	}
}

bool query_send_addrs(struct query_send *qs)
{
	struct ifaddrs *ifa, *i;
	uint8_t addr[2][16] = {};
	bool have[2] = { false, false }, changed;

	if (getifaddrs(&ifa) < 0)
		return false;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || if_nametoindex(i->ifa_name) != qs->ifindex)
			continue;
		if (i->ifa_addr->sa_family == AF_INET && !have[0]) {
			memcpy(addr[0], &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
			have[0] = true;
		} else if (i->ifa_addr->sa_family == AF_INET6 && !have[1]) {
			const uint8_t *a = (const uint8_t *)
				&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;

			/* MLD speaks from the link-local address (RFC 3810 §5) */
			if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) {
				memcpy(addr[1], a, 16);
				have[1] = true;
			}
		}
	}
	freeifaddrs(ifa);
	changed = memcmp(have, qs->have, sizeof(have)) || memcmp(addr, qs->addr, sizeof(addr));
	memcpy(qs->have, have, sizeof(have));
	memcpy(qs->addr, addr, sizeof(addr));
	return changed;
}

void query_send(struct query_send *qs, uint8_t family, const uint8_t *msg, size_t len,
		const uint8_t dst[16])
{
	int fi = family == 6;
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	struct sockaddr_storage to = {};
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} ctl = {};
	struct msghdr m = {
		.msg_name = &to, .msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);

	if (qs->fd[fi] < 0 || !(qs->have[fi] || (!fi && qs->any4)))
		return;
	/* leave from the address the election compares */
	if (fi) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&to;
		struct in6_pktinfo pi = { .ipi6_ifindex = qs->ifindex };

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, dst, 16);
		s6->sin6_scope_id = qs->ifindex;
		m.msg_namelen = sizeof(*s6);
		memcpy(&pi.ipi6_addr, qs->addr[1], 16);
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		m.msg_controllen = CMSG_SPACE(sizeof(pi));
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&to;
		struct in_pktinfo pi = { .ipi_ifindex = qs->ifindex };

		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, dst, 4);
		m.msg_namelen = sizeof(*s4);
		memcpy(&pi.ipi_spec_dst, qs->addr[0], 4);
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		m.msg_controllen = CMSG_SPACE(sizeof(pi));
	}
	if (sendmsg(qs->fd[fi], &m, MSG_DONTWAIT) < 0) {
		(*qs->errors)++;
		pr_debug("query to %s: %s\n", fi ? "MLD" : "IGMP", strerror(errno));
	}
}
