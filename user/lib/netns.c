// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "netns.h"
#include "nlmsg.h"

/* A NETLINK_ROUTE socket made inside the namespace of nsfd, by a thread
 * that enters it (setns() moves only the calling thread): the socket
 * speaks for that namespace whoever uses it later. */
struct opener {
	int nsfd;
	int fd;                 /* the socket, or -errno */
};

static void *open_inside(void *arg)
{
	struct opener *o = arg;

	if (setns(o->nsfd, CLONE_NEWNET) < 0) {
		o->fd = -errno;
		return NULL;
	}
	o->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (o->fd < 0)
		o->fd = -errno;
	return NULL;
}

static int rtnl_in(int nsfd)
{
	struct opener o = { .nsfd = nsfd, .fd = -EIO };
	pthread_t t;
	int err;

	err = pthread_create(&t, NULL, open_inside, &o);
	if (err)
		return -err;
	pthread_join(t, NULL);
	return o.fd;
}

/* The id the namespace of fd gives ours (the one of selffd), -1 if none. */
static int nsid_of_ours(int fd, int selffd)
{
	struct {
		struct nlmsghdr nh;
		struct rtgenmsg g;
		char attrs[16];
	} req = {
		.nh = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct rtgenmsg)),
			.nlmsg_type = RTM_GETNSID, .nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = 1 },
		.g = { .rtgen_family = AF_UNSPEC },
	};
	char buf[1024];
	struct nlmsghdr *nh;
	uint32_t sfd = (uint32_t)selffd;
	ssize_t n;

	nl_put_attr(&req.nh, NETNSA_FD, &sfd, sizeof(sfd));
	if (nl_send(fd, &req.nh))
		return -1;
	n = recv(fd, buf, sizeof(buf), 0);
	for (nh = (struct nlmsghdr *)buf; n > 0 && NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n)) {
		struct rtattr *rta;
		int len;

		if (nh->nlmsg_type != RTM_NEWNSID)
			continue;
		len = (int)nh->nlmsg_len - (int)NLMSG_LENGTH(sizeof(struct rtgenmsg));
		for (rta = (struct rtattr *)((char *)NLMSG_DATA(nh) + NLMSG_ALIGN(sizeof(struct rtgenmsg)));
		     RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
			if (rta->rta_type == NETNSA_NSID) {
				int32_t id;

				memcpy(&id, RTA_DATA(rta), sizeof(id));
				return id;
			}
		}
	}
	return -1;
}

/* One link of the dump: a veth whose peer is in the namespace that has id
 * nsid there (and whose address is mac, unless NULL). Its peer's index
 * (in that namespace), or 0. */
static unsigned int veth_peer(struct nlmsghdr *nh, int nsid, const unsigned char *mac)
{
	struct ifinfomsg *ifi = NLMSG_DATA(nh);
	int len = (int)IFLA_PAYLOAD(nh), got_nsid = -1;
	unsigned int peer = 0;
	bool veth = false, addr = !mac;
	struct rtattr *rta;

	for (rta = IFLA_RTA(ifi); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == IFLA_ADDRESS && mac) {
			addr = RTA_PAYLOAD(rta) == 6 && !memcmp(RTA_DATA(rta), mac, 6);
		} else if (rta->rta_type == IFLA_LINK && RTA_PAYLOAD(rta) >= 4) {
			memcpy(&peer, RTA_DATA(rta), 4);
		} else if (rta->rta_type == IFLA_LINK_NETNSID && RTA_PAYLOAD(rta) >= 4) {
			memcpy(&got_nsid, RTA_DATA(rta), 4);
		} else if (rta->rta_type == IFLA_LINKINFO) {
			struct rtattr *in = RTA_DATA(rta);
			int ilen = (int)RTA_PAYLOAD(rta);

			for (; RTA_OK(in, ilen); in = RTA_NEXT(in, ilen))
				if (in->rta_type == IFLA_INFO_KIND &&
				    !strncmp(RTA_DATA(in), "veth", RTA_PAYLOAD(in)))
					veth = true;
		}
	}
	return veth && addr && nsid >= 0 && got_nsid == nsid ? peer : 0;
}

/* The veth of fd's namespace with the lowest index whose peer is in the
 * namespace fd calls nsid: that peer's index (in ours), or 0. */
static int find_peer(int fd, int nsid, const unsigned char *mac, unsigned int *out)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {
		.nh = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
			.nlmsg_type = RTM_GETLINK, .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = 2 },
		.ifi = { .ifi_family = AF_UNSPEC },
	};
	static char buf[32768];
	int best = 0, err;
	unsigned int i;

	*out = 0;
	if ((err = nl_send(fd, &req.nh)))
		return err;
	/* bounded: a namespace has few links; a dump ends with NLMSG_DONE */
	for (i = 0; i < 1024; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *nh;

		if (n < 0)
			return -errno;
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n)) {
			unsigned int peer;

			if (nh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nh->nlmsg_type == NLMSG_ERROR)
				return -EIO;
			if (nh->nlmsg_type != RTM_NEWLINK)
				continue;
			peer = veth_peer(nh, nsid, mac);
			if (peer && (!best || ((struct ifinfomsg *)NLMSG_DATA(nh))->ifi_index < best)) {
				best = ((struct ifinfomsg *)NLMSG_DATA(nh))->ifi_index;
				*out = peer;
			}
		}
	}
	return -EIO;
}

int netns_link_in(const char *path, unsigned int *ifindex, uint64_t *ino)
{
	return netns_link_in_mac(path, NULL, ifindex, ino);
}

int netns_link_in_mac(const char *path, const unsigned char *mac, unsigned int *ifindex,
		      uint64_t *ino)
{
	int nsfd, selffd = -1, fd = -1, nsid, err;
	struct stat st;

	*ifindex = 0;
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return -errno;
	if (fstat(nsfd, &st) < 0) {
		err = -errno;
		goto out;
	}
	*ino = st.st_ino;
	selffd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (selffd < 0) {
		err = -errno;
		goto out;
	}
	fd = rtnl_in(nsfd);
	if (fd < 0) {
		err = fd;
		goto out;
	}
	/* The dump gives the peer's namespace as an id local to that one;
	 * asking for the links first has it assign ours one if it had none. */
	if ((err = find_peer(fd, -1, NULL, ifindex)))
		goto out;
	nsid = nsid_of_ours(fd, selffd);
	err = find_peer(fd, nsid, mac, ifindex);
	if (!err && !*ifindex)
		err = -ENODEV;
out:
	if (fd >= 0)
		close(fd);
	if (selffd >= 0)
		close(selffd);
	close(nsfd);
	return err;
}

int link_master(unsigned int ifindex, unsigned int *master)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {
		.nh = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
			.nlmsg_type = RTM_GETLINK, .nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = 3 },
		.ifi = { .ifi_family = AF_UNSPEC, .ifi_index = (int)ifindex },
	};
	char buf[8192];
	struct nlmsghdr *nh;
	int fd, err = -EIO;
	ssize_t n;

	*master = 0;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if ((err = nl_send(fd, &req.nh)))
		goto out;
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		err = -errno;
		goto out;
	}
	err = -EIO;
	for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n)) {
		struct rtattr *rta;
		int len;

		if (nh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(nh);

			err = e->error ? e->error : -EIO;
			break;
		}
		if (nh->nlmsg_type != RTM_NEWLINK)
			continue;
		len = (int)IFLA_PAYLOAD(nh);
		for (rta = IFLA_RTA((struct ifinfomsg *)NLMSG_DATA(nh)); RTA_OK(rta, len);
		     rta = RTA_NEXT(rta, len))
			if (rta->rta_type == IFLA_MASTER && RTA_PAYLOAD(rta) >= 4)
				memcpy(master, RTA_DATA(rta), 4);
		err = 0;
		break;
	}
out:
	close(fd);
	return err;
}
