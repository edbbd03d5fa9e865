// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A test shim, loaded with LD_PRELOAD into one gateway, that plays a kernel
 * refusing UDP GSO. NOGSO=probe: setsockopt(UDP_SEGMENT) fails with
 * ENOPROTOOPT, as before Linux 4.18. NOGSO=send: a message carrying a
 * UDP_SEGMENT control message fails with EINVAL, as when the interface's
 * MTU shrank below a batch's segments. Everything else goes to libc.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

static int mode(const char *want)
{
	const char *m = getenv("NOGSO");

	return m && !strcmp(m, want);
}

static int has_segment(const struct msghdr *m)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR((struct msghdr *)m, c))
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_SEGMENT)
			return 1;
	return 0;
}

int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	static int (*real)(int, int, int, const void *, socklen_t);

	if (level == SOL_UDP && name == UDP_SEGMENT && mode("probe")) {
		errno = ENOPROTOOPT;
		return -1;
	}
	if (!real)
		real = (int (*)(int, int, int, const void *, socklen_t))dlsym(RTLD_NEXT, "setsockopt");
	return real(fd, level, name, val, len);
}

ssize_t sendmsg(int fd, const struct msghdr *m, int flags)
{
	static ssize_t (*real)(int, const struct msghdr *, int);

	if (mode("send") && has_segment(m)) {
		errno = EINVAL;
		return -1;
	}
	if (!real)
		real = (ssize_t (*)(int, const struct msghdr *, int))dlsym(RTLD_NEXT, "sendmsg");
	return real(fd, m, flags);
}

/* Like the kernel: the messages before the refused one are sent and
 * counted; the refused one fails the call only when it is the first. */
int sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
	static int (*real)(int, struct mmsghdr *, unsigned int, int);
	unsigned int i;

	if (!real)
		real = (int (*)(int, struct mmsghdr *, unsigned int, int))dlsym(RTLD_NEXT, "sendmmsg");
	if (!mode("send"))
		return real(fd, v, n, flags);
	for (i = 0; i < n && !has_segment(&v[i].msg_hdr); i++)
		;
	if (i == 0 && n > 0) {
		errno = EINVAL;
		return -1;
	}
	return real(fd, v, i, flags);
}
