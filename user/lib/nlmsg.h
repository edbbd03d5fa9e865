/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The two steps every netlink request of mctun takes (rtnetlink in
 * netns.c and doctor.c, generic netlink in mptcp.c): an attribute added at
 * the end of a message, and the message sent to the kernel. The buffer
 * behind nh must have room for what is added.
 */
#ifndef MCTUN_NLMSG_H
#define MCTUN_NLMSG_H

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>

/* An attribute (struct nlattr; an rtattr is laid out the same) of type
 * with len bytes of data, after what nh holds. */
static inline void nl_put_attr(struct nlmsghdr *nh, unsigned short type, const void *data,
			       unsigned short len)
{
	struct nlattr *a = (struct nlattr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy((char *)a + NLA_HDRLEN, data, len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + NLA_ALIGN(a->nla_len);
}

/* nh to the kernel on netlink socket fd. Returns 0 or -errno. */
static inline int nl_send(int fd, const struct nlmsghdr *nh)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	return sendto(fd, nh, nh->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0 ?
	       -errno : 0;
}

#endif
