// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Multipath TCP: sockets, a connection's state (MPTCP_INFO), and the path
 * manager's configuration read through generic netlink. The netlink
 * requests are written out here, as the rest of mctun writes its
 * rtnetlink ones (user/lib/netns.c, doctor.c): Debian's libmnl-dev ships
 * no static archive, and `make static` must link everything in.
 */
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/mptcp.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "mctun.h"
#include "mptcp.h"
#include "nlmsg.h"

#ifndef SOL_MPTCP
#define SOL_MPTCP 284
#endif

#define NL_BUF    16384
#define NL_ROUNDS 64      /* replies read at most: a dump of 16 endpoints needs 1-2 */

bool mptcp_missing(int err)
{
	/* not built: EPROTONOSUPPORT; net.mptcp.enabled 0: ENOPROTOOPT;
	 * kernels before 5.6 knew no protocol 262: EINVAL */
	return err == -EPROTONOSUPPORT || err == -ENOPROTOOPT || err == -EINVAL;
}

int stream_socket(int af, bool mptcp)
{
	static bool warned;
	int fd;

	if (mptcp) {
		fd = socket(af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_MPTCP);
		if (fd >= 0 || !mptcp_missing(-errno))
			return fd < 0 ? -errno : fd;
		if (!warned)
			pr_warn("--transport mptcp: the kernel refuses MPTCP sockets (%s: "
				"net.mptcp.enabled is 0, or MPTCP is not built in); plain TCP\n",
				strerror(errno));
		warned = true;
	}
	fd = socket(af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	return fd < 0 ? -errno : fd;
}

uint8_t mptcp_conn_state(int fd, bool mptcp, unsigned int *subflows)
{
	struct mptcp_info mi;
	socklen_t len = sizeof(mi);

	*subflows = 0;
	if (!mptcp)
		return MCTUN_TRANSPORT_TCP;
	memset(&mi, 0, sizeof(mi));
	/* a socket that fell back answers as TCP does, so SOL_MPTCP fails
	 * (before 5.16's MPTCP_INFO_FLAG_FALLBACK, the only sign) */
	if (getsockopt(fd, SOL_MPTCP, MPTCP_INFO, &mi, &len) < 0 ||
	    mi.mptcpi_flags & MPTCP_INFO_FLAG_FALLBACK)
		return MCTUN_TRANSPORT_FALLBACK;
	/* the count is of the subflows beside the first */
	*subflows = mi.mptcpi_subflows + 1u;
	return MCTUN_TRANSPORT_MPTCP;
}

/* ---- the path manager over generic netlink ----------------------------- */

struct nl_req {
	struct nlmsghdr nh;
	struct genlmsghdr g;
	char attrs[64];
};

/* r made empty: a genl header and no attribute. */
static void genl_init(struct nl_req *r)
{
	memset(r, 0, sizeof(*r));
	r->nh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
}

static int genl_send(int fd, struct nl_req *r, uint16_t family, uint8_t cmd, uint8_t version,
		     uint16_t flags, uint32_t seq)
{
	r->nh.nlmsg_type = family;
	r->nh.nlmsg_flags = NLM_F_REQUEST | flags;
	r->nh.nlmsg_seq = seq;
	r->g.cmd = cmd;
	r->g.version = version;
	return nl_send(fd, &r->nh);
}

/* Each attribute of the genl message nh (or of the nested attribute
 * payload at p, len bytes) to fn. */
typedef void (*attr_fn)(const struct nlattr *a, void *ctx);

static void attrs_each(const void *p, int len, attr_fn fn, void *ctx)
{
	const struct nlattr *a = p;

	while (len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= len) {
		fn(a, ctx);
		len -= NLA_ALIGN(a->nla_len);
		a = (const struct nlattr *)((const char *)a + NLA_ALIGN(a->nla_len));
	}
}

static const void *attr_data(const struct nlattr *a) { return (const char *)a + NLA_HDRLEN; }
static int attr_len(const struct nlattr *a) { return a->nla_len - NLA_HDRLEN; }

static uint32_t attr_u32(const struct nlattr *a)
{
	uint32_t v = 0;

	if (attr_len(a) >= 4)
		memcpy(&v, attr_data(a), 4);
	return v;
}

/*
 * Read the answers to request seq until its end (NLMSG_DONE for a dump,
 * the one answer otherwise), each genl message's attributes to fn.
 * Returns 0 or -errno (the kernel's error).
 */
static int nl_answers(int fd, uint32_t seq, bool dump, attr_fn fn, void *ctx)
{
	char buf[NL_BUF] __attribute__((aligned(4)));
	unsigned int round;

	for (round = 0; round < NL_ROUNDS; round++) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *nh;

		if (n < 0)
			return -errno;
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_seq != seq)
				continue;
			if (nh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nh);

				if (e->error || !dump)
					return e->error;
				continue;
			}
			if (nh->nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN))
				continue;
			attrs_each((const char *)NLMSG_DATA(nh) + GENL_HDRLEN,
				   (int)nh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN), fn, ctx);
			if (!dump)
				return 0;
		}
	}
	return -EMSGSIZE;
}

static void family_id(const struct nlattr *a, void *ctx)
{
	if (a->nla_type == CTRL_ATTR_FAMILY_ID && attr_len(a) >= 2)
		memcpy(ctx, attr_data(a), 2);
}

static void limit(const struct nlattr *a, void *ctx)
{
	struct mptcp_pm *pm = ctx;

	if (a->nla_type == MPTCP_PM_ATTR_SUBFLOWS)
		pm->subflows = attr_u32(a);
	else if (a->nla_type == MPTCP_PM_ATTR_RCV_ADD_ADDRS)
		pm->add_addr_accepted = attr_u32(a);
}

static void endpoint_field(const struct nlattr *a, void *ctx)
{
	struct mptcp_endpoint *e = ctx;
	int len = attr_len(a);

	switch (a->nla_type) {
	case MPTCP_PM_ADDR_ATTR_ID:
		if (len >= 1)
			e->id = *(const uint8_t *)attr_data(a);
		break;
	case MPTCP_PM_ADDR_ATTR_ADDR4:
		if (len >= 4) {
			e->family = MCTUN_FAM_INET;
			memcpy(e->addr, attr_data(a), 4);
		}
		break;
	case MPTCP_PM_ADDR_ATTR_ADDR6:
		if (len >= 16) {
			e->family = MCTUN_FAM_INET6;
			memcpy(e->addr, attr_data(a), 16);
		}
		break;
	case MPTCP_PM_ADDR_ATTR_PORT:
		if (len >= 2)
			memcpy(&e->port, attr_data(a), 2);
		break;
	case MPTCP_PM_ADDR_ATTR_FLAGS:
		e->flags = attr_u32(a);
		break;
	case MPTCP_PM_ADDR_ATTR_IF_IDX:
		e->ifindex = (int)attr_u32(a);
		break;
	}
}

static void endpoint(const struct nlattr *a, void *ctx)
{
	struct mptcp_pm *pm = ctx;
	struct mptcp_endpoint e = { 0 };

	if ((a->nla_type & NLA_TYPE_MASK) != MPTCP_PM_ATTR_ADDR)
		return;
	attrs_each(attr_data(a), attr_len(a), endpoint_field, &e);
	if (e.family && pm->n < MPTCP_MAX_ENDPOINTS)
		pm->ep[pm->n++] = e;
}

int mptcp_pm_read(struct mptcp_pm *pm)
{
	static const char name[] = MPTCP_PM_NAME;
	struct nl_req r;
	uint16_t fam = 0;
	int fd, err;

	memset(pm, 0, sizeof(*pm));
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		return -errno;
	genl_init(&r);
	nl_put_attr(&r.nh, CTRL_ATTR_FAMILY_NAME, name, sizeof(name));
	err = genl_send(fd, &r, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, 0, 1);
	if (!err)
		err = nl_answers(fd, 1, false, family_id, &fam);
	if (!err && !fam)
		err = -ENOENT;
	if (err)
		goto out;
	genl_init(&r);
	err = genl_send(fd, &r, fam, MPTCP_PM_CMD_GET_LIMITS, MPTCP_PM_VER, 0, 2);
	if (!err)
		err = nl_answers(fd, 2, false, limit, pm);
	if (err)
		goto out;
	genl_init(&r);
	err = genl_send(fd, &r, fam, MPTCP_PM_CMD_GET_ADDR, MPTCP_PM_VER, NLM_F_DUMP, 3);
	if (!err)
		err = nl_answers(fd, 3, true, endpoint, pm);
out:
	close(fd);
	/* no such family: the kernel was built without MPTCP */
	return err == -ENOENT || err == -EINVAL ? -ENOENT : err;
}
