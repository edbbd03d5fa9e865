// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "obuf.h"

/*
 * Per-peer buffers come straight from mmap: pages cost memory only once
 * written, and a closed peer's go back to the system at once (from malloc
 * they would stay in the heap once glibc raised its mmap threshold).
 */
void *big_alloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	/* Where transparent huge pages are "always" (Debian's kernels), the
	 * first byte of a queue would take 2 MiB: keep to 4 KiB pages, so a
	 * peer's memory follows what it holds. */
	madvise(p, size, MADV_NOHUGEPAGE);
	return p;
}

void big_free(void *p, size_t size)
{
	if (p)
		munmap(p, size);
}

int obuf_init(struct obuf *o, size_t cap)
{
	o->buf = big_alloc(cap);
	if (!o->buf)
		return -ENOMEM;
	o->cap = cap;
	o->head = o->len = o->touched = 0;
	return 0;
}

/* The working set now (Linux 5.14+), not page by page under the first burst:
 * with 100 peers just up, those faults stalled the event loop for tens of
 * ms, long enough to overflow every queue at once. */
void obuf_prefault(struct obuf *o)
{
#ifdef MADV_POPULATE_WRITE
	size_t n = o->cap < OBUF_KEEP ? o->cap : OBUF_KEEP;

	if (o->touched < n && !madvise(o->buf, n, MADV_POPULATE_WRITE))
		o->touched = n;
#else
	(void)o;
#endif
}

/* Now empty: give back the pages of a burst, keep a working set. */
static void emptied(struct obuf *o)
{
	o->head = 0;
	if (o->touched > OBUF_RELEASE) {
		madvise(o->buf + OBUF_KEEP, o->touched - OBUF_KEEP, MADV_DONTNEED);
		o->touched = OBUF_KEEP;
	}
}

void obuf_reset(struct obuf *o)
{
	o->len = 0;
	emptied(o);
}

void obuf_free(struct obuf *o)
{
	big_free(o->buf, o->cap);
	o->buf = NULL;
	o->cap = o->len = o->head = o->touched = 0;
}

static void put(struct obuf *o, const void *p, size_t n)
{
	size_t tail = (o->head + o->len) % o->cap;
	size_t first = n < o->cap - tail ? n : o->cap - tail;

	memcpy(o->buf + tail, p, first);
	memcpy(o->buf, (const uint8_t *)p + first, n - first);
	o->len += n;
	if (first < n)
		o->touched = o->cap;
	else if (tail + n > o->touched)
		o->touched = tail + n;
}

int obuf_put2(struct obuf *o, size_t limit, const void *a, size_t alen, const void *b,
	      size_t blen)
{
	if (alen + blen > obuf_room(o) || o->len + alen + blen > limit)
		return -ENOBUFS;
	/* An empty queue restarts at 0: fewer wrapped writes. */
	if (!o->len)
		o->head = 0;
	put(o, a, alen);
	if (blen)
		put(o, b, blen);
	return 0;
}

long obuf_flush(struct obuf *o, int fd)
{
	long total = 0;
	int i;

	/* At most two passes: the part up to the end, then the wrapped part. */
	for (i = 0; i < 4 && o->len; i++) {
		struct iovec iov[2];
		size_t first = o->len < o->cap - o->head ? o->len : o->cap - o->head;
		ssize_t w;
		int n = 1;

		iov[0].iov_base = o->buf + o->head;
		iov[0].iov_len = first;
		if (first < o->len) {
			iov[1].iov_base = o->buf;
			iov[1].iov_len = o->len - first;
			n = 2;
		}
		struct msghdr msg = { .msg_iov = iov, .msg_iovlen = n };

		w = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			return -errno;
		}
		o->head = (o->head + w) % o->cap;
		o->len -= w;
		total += w;
	}
	if (!o->len && total)
		emptied(o);
	return total;
}
