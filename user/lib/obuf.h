/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A peer's output queue: a bounded circular byte buffer. Frames go in
 * whole or not at all (the caller counts what did not fit); writes go out
 * with sendmsg() straight from the buffer, non-blocking.
 */
#ifndef MCTUN_OBUF_H
#define MCTUN_OBUF_H

#include <stddef.h>
#include <stdint.h>

struct obuf {
	uint8_t *buf;
	size_t cap;         /* bound, bytes */
	size_t head;        /* offset of the first unsent byte */
	size_t len;         /* unsent bytes */
	size_t touched;     /* pages below this offset may be resident */
};

/* An emptied buffer that had grown past OBUF_RELEASE gives back its pages
 * above OBUF_KEEP: an idle peer holds at most OBUF_RELEASE bytes. */
#define OBUF_KEEP    (64u << 10)
#define OBUF_RELEASE (256u << 10)

/* Anonymous mappings for large per-connection buffers. */
void *big_alloc(size_t size);
void big_free(void *p, size_t size);

int obuf_init(struct obuf *o, size_t cap);
void obuf_free(struct obuf *o);
/* Takes the pages a queue keeps (OBUF_KEEP) now: for a peer that is up. */
void obuf_prefault(struct obuf *o);
static inline size_t obuf_room(const struct obuf *o) { return o->cap - o->len; }
/* Appends a, then b (b may be NULL); -ENOBUFS, and nothing queued, when
 * the queue would pass min(limit, cap). */
int obuf_put2(struct obuf *o, size_t limit, const void *a, size_t alen, const void *b,
	      size_t blen);
/* Writes what the socket takes. Returns bytes written (>= 0), or -errno
 * for a broken connection; -EAGAIN never escapes (it returns the count). */
long obuf_flush(struct obuf *o, int fd);
/* Forgets what is queued (a connection that closed). */
void obuf_reset(struct obuf *o);

#endif
