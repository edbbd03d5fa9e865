/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What an epoll event of the daemon's loop points at, and how a source is
 * put in (or taken out of) the loop's epoll set. */
#ifndef MCTUN_EVENT_H
#define MCTUN_EVENT_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>

#include "log.h"

/* What an epoll event points at. */
enum src_kind { SRC_SIGNAL, SRC_TIMER, SRC_RING, SRC_LISTEN, SRC_PEER, SRC_GROUP,
		SRC_METRICS, SRC_TLEARN };

struct src {
	enum src_kind kind;
	int fd;
};

/* Adds, modifies or deletes s in the epoll set epfd; a failure is logged. */
static inline void ep_set(int epfd, struct src *s, uint32_t events, int op)
{
	struct epoll_event ev = { .events = events, .data.ptr = s };

	if (epoll_ctl(epfd, op, s->fd, &ev) < 0)
		pr_warn("epoll_ctl fd %d: %s\n", s->fd, strerror(errno));
}

#endif
