// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "inject.h"
#include "ippkt.h"
#include "localrx.h"
#include "log.h"
#include "util.h"

#define INJ_BATCH     64
#define INJ_ARENA     (1u << 20)
#define INJECT_SNDBUF (4 << 20)

/*
 * Datagrams queued for one send socket. Consecutive datagrams to the same
 * group with the same TOS, each no longer than the first and all but the
 * last of its size, share one message sent with UDP_SEGMENT (UDP GSO): the
 * stack is walked once for up to INJ_GSO_SEGS of them and the segments are
 * cut at the device (or by the receiving socket, on veth). The message's
 * iovecs are its datagrams, consecutive in iov[].
 */
#define INJ_GSO_SEGS  64             /* UDP_MAX_SEGMENTS since Linux 4.18 */
#define INJ_GSO_BYTES 60000          /* under IPv4's 64 KiB packet limit */

struct inj_run {
	uint32_t seg;                 /* GSO segment size: the first datagram's */
	uint32_t bytes;
	uint16_t nseg;
	uint8_t tos;
	bool closed;                  /* a shorter datagram ended it */
};

struct inj_batch {
	struct mmsghdr msg[INJ_BATCH];
	struct inj_run run[INJ_BATCH];
	struct iovec iov[INJ_BATCH];
	struct sockaddr_storage dst[INJ_BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} ctl[INJ_BATCH];
	unsigned int n;               /* messages */
	unsigned int niov;            /* datagrams */
	size_t used;
	uint8_t arena[INJ_ARENA];
};

/* Control data of message i: its TOS, its GSO segment size. */
static void inj_set_cmsgs(struct inj_batch *b, unsigned int i, int fi, bool gso)
{
	struct msghdr *m = &b->msg[i].msg_hdr;
	const struct inj_run *r = &b->run[i];
	struct cmsghdr *c;
	size_t len = 0;

	m->msg_control = b->ctl[i].buf;
	m->msg_controllen = sizeof(b->ctl[i].buf);
	c = CMSG_FIRSTHDR(m);
	if (r->tos) {
		c->cmsg_level = fi ? IPPROTO_IPV6 : IPPROTO_IP;
		c->cmsg_type = fi ? IPV6_TCLASS : IP_TOS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		*(int *)CMSG_DATA(c) = r->tos;
		len += CMSG_SPACE(sizeof(int));
		c = CMSG_NXTHDR(m, c);
	}
	if (gso && r->nseg > 1) {
		uint16_t seg = (uint16_t)r->seg;

		c->cmsg_level = SOL_UDP;
		c->cmsg_type = UDP_SEGMENT;
		c->cmsg_len = CMSG_LEN(sizeof(seg));
		memcpy(CMSG_DATA(c), &seg, sizeof(seg));
		len += CMSG_SPACE(sizeof(seg));
	}
	m->msg_controllen = len;
	if (!len)
		m->msg_control = NULL;
}

/* err, from asking for or sending with UDP_SEGMENT: where it says the kernel
 * has no UDP GSO, re-injection goes datagram by datagram from now on. */
static void gso_check(struct injector *in, int err)
{
	if (err != ENOPROTOOPT && err != EOPNOTSUPP)
		return;
	pr_info("UDP GSO unavailable (%s): re-injecting datagram by datagram\n", strerror(err));
	in->no_gso = true;
}

/* A GSO message the kernel refused (an MTU that shrank, a kernel without
 * UDP GSO): its datagrams one by one. */
static void inject_singly(struct injector *in, int s, unsigned int i, int gso_err)
{
	struct inj_batch *b = in->b[s];
	int fi = s & 1;
	struct msghdr m;
	struct iovec *iov;
	unsigned int k, n = b->run[i].nseg;

	gso_check(in, gso_err);
	inj_set_cmsgs(b, i, fi, false);    /* the TOS alone */
	m = b->msg[i].msg_hdr;
	iov = m.msg_iov;
	m.msg_iovlen = 1;
	for (k = 0; k < n; k++) {
		m.msg_iov = &iov[k];
		if (sendmsg(in->fd[s], &m, MSG_DONTWAIT) < 0)
			in->st->inject_errors++;
		else
			in->st->injected++;
	}
}

/* Sends what slot s (a socket of in->fd[]) has queued. A message counts
 * run[].nseg datagrams as injected: a GSO batch's, or 1 on the last
 * packet of a raw datagram and 0 on its other fragments. Errors count
 * per datagram of a batch, per packet of a raw socket. */
static void flush_slot(struct injector *in, int s)
{
	struct inj_batch *b = in->b[s];
	unsigned int done = 0, i, k;
	int r;

	if (!b)
		return;
	for (i = 0; i < b->n; i++)
		inj_set_cmsgs(b, i, s & 1, true);
	for (i = 0; done < b->n && i < 2 * INJ_BATCH; i++) {
		r = sendmmsg(in->fd[s], b->msg + done, b->n - done, MSG_DONTWAIT);
		if (r < 0) {
			int err = errno;

			if (err == EINTR)
				continue;
			/* The message at `done` failed: deal with it, go on. */
			if (b->run[done].nseg > 1 && err != EAGAIN && err != ENOBUFS)
				inject_singly(in, s, done, err);
			else
				in->st->inject_errors += b->run[done].nseg ? b->run[done].nseg : 1;
			done++;
			continue;
		}
		for (k = done; k < done + (unsigned int)r; k++)
			in->st->injected += b->run[k].nseg;
		done += r;
	}
	b->n = 0;
	b->niov = 0;
	b->used = 0;
}

/* May a datagram of len bytes to dst join the batch's last message? */
static bool inj_joins(const struct injector *in, const struct inj_batch *b, int fi,
		      const struct sockaddr_storage *dst, socklen_t dlen, uint32_t len,
		      uint8_t tos)
{
	const struct inj_run *r;

	if (!b->n || in->no_gso || !len)
		return false;
	r = &b->run[b->n - 1];
	return !r->closed && len <= r->seg && r->nseg < INJ_GSO_SEGS &&
	       r->bytes + len <= INJ_GSO_BYTES && r->tos == tos &&
	       r->seg + (fi ? 48u : 28u) <= in->mtu &&
	       b->msg[b->n - 1].msg_hdr.msg_namelen == dlen &&
	       !memcmp(&b->dst[b->n - 1], dst, dlen);
}

/* A new message at the batch's end: to dst, described by run, its one
 * datagram the iovec at b->niov (already filled in). */
static void msg_add(struct inj_batch *b, const struct sockaddr_storage *dst, socklen_t dlen,
		    const struct inj_run *run)
{
	unsigned int i = b->n++;
	struct msghdr *m = &b->msg[i].msg_hdr;

	b->dst[i] = *dst;
	b->run[i] = *run;
	memset(m, 0, sizeof(*m));
	m->msg_name = &b->dst[i];
	m->msg_namelen = dlen;
	m->msg_iov = &b->iov[b->niov++];
	m->msg_iovlen = 1;
}

/* --keep-source: the datagram as its sender sent it, whole or in
 * fragments, each a message of its own on the raw socket of slot s. */
static void inject_raw(struct injector *in, int s, const struct data_hdr *h,
		       const uint8_t *payload, uint32_t len)
{
	struct inj_batch *b = in->b[s];
	struct ippkt_udp d = {
		.family = h->family, .ttl = (uint8_t)in->ttl, .tos = h->tos & 0xfc,
		.sport = h->sport, .dport = h->dport, .mtu = in->mtu,
	};
	struct sockaddr_storage dst;
	unsigned int n, k;
	socklen_t dlen;
	uint32_t max;
	size_t size;

	memcpy(d.src, h->src, 16);
	memcpy(d.dst, h->group, 16);
	n = ippkt_count(&d, len);
	if (!n || !b) {
		in->st->inject_errors++;
		return;
	}
	if (n > 1) {
		/* IPv4 has 16 bits of it, and 0 there would let the kernel
		 * number each fragment anew */
		do
			in->frag_id++;
		while (!(in->frag_id & 0xffff));
		d.id = in->frag_id;
	}
	d.csum = ippkt_udp_csum(&d, payload, len);
	max = ippkt_max(&d, len);
	/* port 0: a raw socket's destination names no port */
	dlen = addr_sockaddr(h->family, h->group, 0, 0, &dst);
	for (k = 0; k < n; k++) {
		if (b->n == INJ_BATCH || b->used + max > INJ_ARENA)
			flush_slot(in, s);
		size = ippkt_build(&d, payload, len, k, b->arena + b->used);
		b->iov[b->niov].iov_base = b->arena + b->used;
		b->iov[b->niov].iov_len = size;
		b->used += size;
		msg_add(b, &dst, dlen, &(struct inj_run){ .seg = (uint32_t)size,
			.bytes = (uint32_t)size, .nseg = k + 1 == n, .closed = true });
	}
}

/* The datagram keeps its DSCP; ECN bits are the kernel's to set. */
static void inject(struct injector *in, const struct data_hdr *h, const uint8_t *payload,
		   uint32_t len)
{
	/* nobody here joined it: sent without a looped-back copy */
	int q = localrx_has(in->rx, h->family, h->group) ? 0 : INJ_QUIET;
	int s = (h->family == MCTUN_FAM_INET6) + q;
	struct inj_batch *b = in->b[s];
	struct sockaddr_storage dst;
	socklen_t dlen;
	struct inj_run *r;
	uint8_t tos = h->tos & 0xfc;

	if (in->fd[INJ_RAW + s] >= 0 && !addr_is_zero(h->src)) {
		inject_raw(in, INJ_RAW + s, h, payload, len);
		return;
	}
	if (in->fd[s] < 0 || !b) {
		in->st->inject_errors++;
		return;
	}
	if (b->niov == INJ_BATCH || b->used + len > INJ_ARENA)
		flush_slot(in, s);
	memcpy(b->arena + b->used, payload, len);
	b->iov[b->niov].iov_base = b->arena + b->used;
	b->iov[b->niov].iov_len = len;
	b->used += len;
	dlen = addr_sockaddr(h->family, h->group, h->dport, 0, &dst);

	if (inj_joins(in, b, s & 1, &dst, dlen, len, tos)) {
		r = &b->run[b->n - 1];
		r->nseg++;
		r->bytes += len;
		r->closed = len < r->seg;
		b->msg[b->n - 1].msg_hdr.msg_iovlen++;
		b->niov++;
		return;
	}
	msg_add(b, &dst, dlen, &(struct inj_run){ .seg = len, .bytes = len, .nseg = 1, .tos = tos });
}

void inject_target(const struct cfg_group *gc, const struct data_hdr *h, uint8_t group[16],
		   uint16_t *port)
{
	const struct mc_group *to = &gc->to;
	unsigned int plen = to->plen;

	if (port)
		*port = h->dport;
	if (!to->family) {
		memcpy(group, h->group, 16);
		return;
	}
	addr_graft(group, to->addr, plen, h->group);
	if (to->port && port)
		*port = to->port;
}

/* A datagram from the tunnel onto the island, as its group says: not at all
 * (direction out: it is still passed on), or to its rewrite target. */
void inject_group(struct injector *in, const struct cfg_group *gc, const struct data_hdr *h,
		  const uint8_t *payload, uint32_t len)
{
	struct data_hdr r;

	if (gc->dir == GDIR_OUT) {
		in->st->drop_direction++;
		return;
	}
	if (!gc->to.family) {
		inject(in, h, payload, len);
		return;
	}
	/* The target is sent from our own port like any re-injection, so the
	 * BPF program never captures it, configured group or not. */
	r = *h;
	inject_target(gc, h, r.group, &r.dport);
	in->st->rewritten++;
	inject(in, &r, payload, len);
}

void injector_flush(struct injector *in)
{
	int fi;

	for (fi = 0; fi < INJ_SOCKS; fi++)
		if (in->b[fi] && in->b[fi]->n)
			flush_slot(in, fi);
}

/* ---- the send sockets ---------------------------------------------------- */

void injector_init(struct injector *in, struct mctun_dstats *st)
{
	*in = (struct injector){ .fd = { -1, -1, -1, -1, -1, -1, -1, -1 }, .ttl = 1, .st = st };
	/* where fragment identifications start: anywhere (RFC 7739) */
	random_bytes(&in->frag_id, sizeof(in->frag_id));
}

static int ttl_opt(int fi)
{
	return fi ? IPV6_MULTICAST_HOPS : IP_MULTICAST_TTL;
}

/* Names of the send sockets, by slot. */
static const char *const sock_names[INJ_SOCKS] = {
	"IPv4 send socket", "IPv6 send socket", "IPv4 raw send socket", "IPv6 raw send socket",
	"IPv4 quiet send socket", "IPv6 quiet send socket", "IPv4 quiet raw send socket",
	"IPv6 quiet raw send socket",
};

/* The send socket of slot s: UDP with a port of its own, or (INJ_RAW set)
 * raw, header-included and marked; multicast loopback on, or off with
 * INJ_QUIET set. Returns the fd or -errno (logged). */
static int socket_open(const struct config *cfg, int s, uint16_t *port)
{
	int fi = s & 1, raw = !!(s & INJ_RAW), loop = !(s & INJ_QUIET);
	int af = fi ? AF_INET6 : AF_INET, lvl = fi ? IPPROTO_IPV6 : IPPROTO_IP;
	const char *obj = sock_names[s];
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd, err, bytes = INJECT_SNDBUF;

	/* IPPROTO_RAW: the header is ours, in both families (IP_HDRINCL) */
	fd = raw ? socket(af, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_RAW) :
		   socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		pr_warn("%s: %s%s\n", obj, strerror(-err),
			raw && err == -EPERM ? " (--keep-source needs CAP_NET_RAW)" : "");
		return err;
	}
	if (fi) {
		/* a raw socket has its protocol for a port: no V6ONLY to set */
		if ((!raw && (err = set_sockopt_int(fd, lvl, IPV6_V6ONLY, 1, obj, "IPV6_V6ONLY"))) ||
		    (err = set_sockopt_int(fd, lvl, IPV6_MULTICAST_IF, cfg->ifindex, obj,
					   "IPV6_MULTICAST_IF")) ||
		    (err = set_sockopt_int(fd, lvl, IPV6_MULTICAST_LOOP, loop, obj,
					   "IPV6_MULTICAST_LOOP")))
			goto fail;
	} else {
		struct ip_mreqn mr = { .imr_ifindex = cfg->ifindex };

		if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr)) < 0) {
			err = -errno;
			pr_warn("%s: IP_MULTICAST_IF %s: %s\n", obj, cfg->ifname, strerror(-err));
			goto fail;
		}
		if ((err = set_sockopt_int(fd, lvl, IP_MULTICAST_LOOP, loop, obj,
					   "IP_MULTICAST_LOOP")))
			goto fail;
	}
	if ((err = set_sockopt_int(fd, lvl, ttl_opt(fi), cfg->ttl, obj, "the TTL")))
		goto fail;
	/* A big buffer: FORCE works for root and CAP_NET_ADMIN, else the sysctl cap. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof(bytes)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
	/* Bound to the island interface, so nothing it sends can leave by
	 * another route. Needs CAP_NET_RAW; IP_MULTICAST_IF alone also does. */
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, cfg->ifname, strlen(cfg->ifname)) < 0)
		pr_info("%s: SO_BINDTODEVICE %s: %s (IP_MULTICAST_IF still applies)\n", obj,
			cfg->ifname, strerror(errno));
	if (raw) {
		/* what the BPF program knows our own re-injections by */
		if (setsockopt(fd, SOL_SOCKET, SO_MARK, &(int){ MCTUN_SELF_MARK }, sizeof(int)) < 0) {
			err = -errno;
			pr_warn("%s: SO_MARK: %s (--keep-source needs CAP_NET_ADMIN)\n", obj,
				strerror(-err));
			goto fail;
		}
		return fd;
	}

	/* An ephemeral port of our own: the BPF program skips it. */
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = af;
	if (bind(fd, (struct sockaddr *)&ss, fi ? sizeof(struct sockaddr_in6) :
			sizeof(struct sockaddr_in)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		err = -errno;
		pr_warn("%s: bind: %s\n", obj, strerror(-err));
		goto fail;
	}
	*port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return fd;
fail:
	close(fd);
	return err;
}

/* The raw socket of slot INJ_RAW + fi (fi: the family, maybe INJ_QUIET)
 * beside its UDP one (--keep-source). */
static int raw_open(struct injector *in, const struct config *cfg, int fi)
{
	int s = INJ_RAW + fi, err;

	if (in->fd[s] >= 0)
		return 0;
	in->b[s] = calloc(1, sizeof(*in->b[s]));
	if (!in->b[s])
		return -ENOMEM;
	err = socket_open(cfg, s, NULL);
	if (err < 0) {
		free(in->b[s]);
		in->b[s] = NULL;
		return err;
	}
	in->fd[s] = err;
	return 0;
}

/* The UDP send socket of slot s (a family, maybe INJ_QUIET), unless open. */
static int udp_open(struct injector *in, const struct config *cfg, int s,
		    int (*on_port)(void *ctx, uint16_t port), void *ctx)
{
	uint16_t *port = &in->port[(s & 1) + (s & INJ_QUIET ? 2 : 0)];
	int err;

	if (in->fd[s] >= 0)
		return 0;
	in->b[s] = calloc(1, sizeof(*in->b[s]));
	if (!in->b[s])
		return -ENOMEM;
	err = socket_open(cfg, s, port);
	if (err < 0)
		goto fail;
	in->fd[s] = err;
	/* before anything is sent from it: the BPF program must skip its port */
	err = on_port ? on_port(ctx, *port) : 0;
	if (err) {
		pr_warn("%s: add port %u to the BPF map: %s\n", sock_names[s], *port,
			strerror(-err));
		close(in->fd[s]);
		in->fd[s] = -1;
		goto fail;
	}
	/* A kernel without UDP GSO (before 4.18) would ignore the control
	 * message and send a batch as one datagram: ask it first. */
	if (!in->no_gso && setsockopt(in->fd[s], SOL_UDP, UDP_SEGMENT, &(int){ 0 }, sizeof(int)))
		gso_check(in, errno);
	return 0;
fail:
	free(in->b[s]);
	in->b[s] = NULL;
	return err;
}

int injector_open(struct injector *in, const struct config *cfg, int fi,
		  int (*on_port)(void *ctx, uint16_t port), void *ctx)
{
	int err, q;

	in->ttl = cfg->ttl;
	for (q = 0; q <= INJ_QUIET; q += INJ_QUIET) {
		if (cfg->keep_source && (err = raw_open(in, cfg, fi + q)))
			return err;
		if ((err = udp_open(in, cfg, fi + q, on_port, ctx)))
			return err;
	}
	injector_mtu_load(in, cfg->ifname);
	return 0;
}

void injector_close(struct injector *in)
{
	int fi;

	for (fi = 0; fi < INJ_SOCKS; fi++) {
		if (in->fd[fi] >= 0)
			close(in->fd[fi]);
		in->fd[fi] = -1;
		free(in->b[fi]);
		in->b[fi] = NULL;
	}
}

void injector_set_ttl(struct injector *in, uint32_t ttl)
{
	int s;

	in->ttl = ttl;
	for (s = 0; s < INJ_SOCKS; s++)
		if (in->fd[s] >= 0 && !(s & INJ_RAW))
			set_sockopt_int(in->fd[s], s & 1 ? IPPROTO_IPV6 : IPPROTO_IP, ttl_opt(s & 1),
					ttl, sock_names[s], "the TTL");
}

void injector_mtu_load(struct injector *in, const char *ifname)
{
	struct ifreq ifr = { 0 };
	int fd = -1, s;

	for (s = 0; s < INJ_SOCKS && fd < 0; s++)
		fd = in->fd[s];

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (fd >= 0 && !ioctl(fd, SIOCGIFMTU, &ifr) && ifr.ifr_mtu > 0)
		in->mtu = (uint32_t)ifr.ifr_mtu;
}
