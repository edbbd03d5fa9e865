// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The daemon's UDP sockets: one per configured group, which joins the
 * group on the interface and receives what the BPF program leaves to it,
 * and one send socket per address family for re-injection; and the TCP
 * keepalive settings of connections whose framing has no keepalive.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "util.h"

#define GROUP_RCVBUF (4 << 20)

static int set_int(int fd, int level, int opt, int val, const char *what, const char *obj)
{
	if (setsockopt(fd, level, opt, &val, sizeof(val)) < 0) {
		int err = -errno;

		pr_warn("%s: %s: %s\n", obj, what, strerror(-err));
		return err;
	}
	return 0;
}

/* A big buffer: FORCE works for root and CAP_NET_ADMIN, else the sysctl cap. */
static void set_buf(int fd, int force_opt, int opt, int bytes)
{
	if (setsockopt(fd, SOL_SOCKET, force_opt, &bytes, sizeof(bytes)) < 0)
		setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof(bytes));
}

/* Accept only skbs whose mark carries MCTUN_FRAG_MARK: the reassembled
 * fragments the TC program marked. Everything else the ring has. */
static int attach_mark_filter(int fd, const char *obj)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_MARK),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, MCTUN_FRAG_MARK),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MCTUN_FRAG_MARK, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { .len = ARRAY_SIZE(code), .filter = code };

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0) {
		int err = -errno;

		pr_warn("%s: attach socket filter: %s\n", obj, strerror(-err));
		return err;
	}
	return 0;
}

static bool link_scope(const struct mc_group *g)
{
	return g->family == MCTUN_FAM_INET6 && (g->addr[1] & 0x0f) <= 2;
}

int group_socket_open(const struct config *cfg, unsigned int gid, bool marked_only)
{
	const struct mc_group *g = &cfg->groups[gid].g;
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
	if (marked_only && (err = attach_mark_filter(fd, name)))
		goto fail;
	if ((err = set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR", name)))
		goto fail;
	if (af == AF_INET6) {
		if ((err = set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1, "IPV6_V6ONLY", name)) ||
		    (err = set_int(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1, "IPV6_RECVHOPLIMIT", name)) ||
		    (err = set_int(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, 1, "IPV6_RECVTCLASS", name)))
			goto fail;
		/* only the groups this socket joined, not every group on the host */
		set_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, 0, "IPV6_MULTICAST_ALL", name);
	} else {
		if ((err = set_int(fd, IPPROTO_IP, IP_RECVTTL, 1, "IP_RECVTTL", name)) ||
		    (err = set_int(fd, IPPROTO_IP, IP_RECVTOS, 1, "IP_RECVTOS", name)) ||
		    (err = set_int(fd, IPPROTO_IP, IP_MULTICAST_ALL, 0, "IP_MULTICAST_ALL", name)))
			goto fail;
	}
	set_buf(fd, SO_RCVBUFFORCE, SO_RCVBUF, GROUP_RCVBUF);

	/* Bound to the group address: only this group's datagrams arrive. */
	len = addr_sockaddr(g->family, g->addr, g->port, link_scope(g) ? cfg->ifindex : 0, &ss);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
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
	return fd;
fail:
	close(fd);
	return err;
}

int local_addrs_load(struct daemon *d)
{
	struct ifaddrs *ifa, *i;
	uint16_t port;

	if (getifaddrs(&ifa) < 0)
		return -errno;
	d->nlocal = 0;
	for (i = ifa; i && d->nlocal < ARRAY_SIZE(d->local_addrs); i = i->ifa_next) {
		uint8_t *slot = d->local_addrs[d->nlocal];

		if (!i->ifa_addr || sockaddr_addr(i->ifa_addr, &slot[0], slot + 1, &port))
			continue;
		d->nlocal++;
	}
	freeifaddrs(ifa);
	return 0;
}

bool is_local_addr(const struct daemon *d, uint8_t family, const uint8_t *addr)
{
	unsigned int i;

	for (i = 0; i < d->nlocal; i++)
		if (d->local_addrs[i][0] == family &&
		    !memcmp(d->local_addrs[i] + 1, addr, family == MCTUN_FAM_INET ? 4 : 16))
			return true;
	return false;
}

/*
 * The kernel probes a connection idle for idle_s (whole seconds, at least
 * 1), then every `intvl` seconds, and ends it when about dead_s have passed
 * without an answer; TCP_USER_TIMEOUT ends it too when data stays
 * unacknowledged that long (no probes go out while data is outstanding).
 * The reader then gets ETIMEDOUT.
 */
int tcp_keepalive_on(int fd, double idle_s, double dead_s)
{
	int on = 1, idle = (int)idle_s, intvl, cnt, ms = (int)(dead_s * 1000);
	double rest;

	idle += idle < idle_s || idle < 1;          /* rounded up, at least 1 */
	rest = dead_s > idle ? dead_s - idle : 1;
	intvl = idle;
	if (rest / intvl > 127)                     /* TCP_KEEPCNT's maximum */
		intvl = (int)(rest / 127) + 1;
	cnt = (int)(rest / intvl);
	cnt += cnt < 1 || cnt * intvl < rest;
	if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof(ms)) < 0)
		return -errno;
	return 0;
}
