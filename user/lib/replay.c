// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "obuf.h"
#include "replay.h"

#define REPLAY_SLACK (256u << 10)   /* pages past the share kept (no madvise churn) */

int replay_init(struct replay *r, size_t cap)
{
	if (r->buf)
		return 0;
	r->buf = big_alloc(cap);
	if (!r->buf)
		return -ENOMEM;
	r->cap = r->wrap = cap;
	r->head = r->len = r->tx_off = r->touched = 0;
	return 0;
}

/* The memory goes; the numbers stay (the peer may come back). */
void replay_free(struct replay *r)
{
	big_free(r->buf, r->cap);
	r->buf = NULL;
	r->cap = r->wrap = r->head = r->len = r->tx_off = r->touched = 0;
	r->base = r->end;
	if (r->tx < r->base)
		r->tx = r->base;
}

static void ring_put(struct replay *r, size_t off, const void *p, size_t n)
{
	size_t first = n < r->wrap - off ? n : r->wrap - off;

	memcpy(r->buf + off, p, first);
	memcpy(r->buf, (const uint8_t *)p + first, n - first);
}

static void ring_get(const struct replay *r, size_t off, void *p, size_t n)
{
	size_t first = n < r->wrap - off ? n : r->wrap - off;

	memcpy(p, r->buf + off, first);
	memcpy((uint8_t *)p + first, r->buf, n - first);
}

static size_t rec_len(const struct replay *r, size_t off, uint64_t *t)
{
	uint8_t h[REPLAY_REC_HDR];
	uint32_t n;

	ring_get(r, off, h, sizeof(h));
	memcpy(&n, h, 4);
	if (t)
		memcpy(t, h + 8, 8);
	return REPLAY_REC_HDR + n;
}

/* The oldest record goes. One not yet sent leaves a gap to announce. */
static void drop_oldest(struct replay *r)
{
	size_t n = rec_len(r, r->head, NULL);

	r->head = (r->head + n) % r->wrap;
	r->len -= n;
	r->base++;
	if (r->tx < r->base) {
		r->skipped += r->base - r->tx;
		r->tx = r->base;
		r->tx_off = 0;
	} else {
		r->tx_off -= n;
	}
}

/*
 * Empty: start again at the front, going round within the bytes it may
 * hold now (min of --queue-size and the peer's share of --queue-total), so
 * that the pages it keeps follow that share, not the whole buffer; those
 * past it go back to the system.
 */
static void restart(struct replay *r, size_t lim)
{
	r->head = r->tx_off = 0;
	r->wrap = lim;
	if (r->touched > lim + REPLAY_SLACK) {
		madvise(r->buf + lim, r->touched - lim, MADV_DONTNEED);
		r->touched = lim;
	}
}

void replay_put(struct replay *r, size_t limit, uint64_t t, const void *a, size_t alen,
		const void *b, size_t blen)
{
	size_t need = REPLAY_REC_HDR + alen + blen, lim = limit < r->cap ? limit : r->cap;
	uint8_t h[REPLAY_REC_HDR] = { 0 };
	uint32_t n = alen + blen;
	size_t tail;

	r->end++;
	if (!r->buf) {
		/* out of the window for good: numbered, not kept */
		r->base = r->end;
		if (r->tx < r->base)
			r->tx = r->base;
		return;
	}
	while (r->len && r->len + need > (lim < r->wrap ? lim : r->wrap)) {
		drop_oldest(r);
		r->overflow++;
	}
	if (!r->len)
		restart(r, lim);
	if (need > lim) {
		/* it takes its number, and is gone at once */
		r->overflow++;
		r->base = r->end;
		if (r->tx < r->base) {
			r->skipped += r->base - r->tx;
			r->tx = r->base;
			r->tx_off = 0;
		}
		return;
	}
	memcpy(h, &n, 4);
	memcpy(h + 8, &t, 8);
	tail = (r->head + r->len) % r->wrap;
	ring_put(r, tail, h, sizeof(h));
	ring_put(r, (tail + REPLAY_REC_HDR) % r->wrap, a, alen);
	if (blen)
		ring_put(r, (tail + REPLAY_REC_HDR + alen) % r->wrap, b, blen);
	r->len += need;
	if (r->touched < tail + need)
		r->touched = tail + need < r->wrap ? tail + need : r->wrap;
}

uint64_t replay_expire(struct replay *r, uint64_t t)
{
	uint64_t n = 0, rt;

	while (r->len) {
		rec_len(r, r->head, &rt);
		if (rt >= t)
			break;
		drop_oldest(r);
		n++;
	}
	return n;
}

int replay_peek(const struct replay *r, const uint8_t **a, size_t *alen, const uint8_t **b,
		size_t *blen)
{
	size_t off, n, first;

	if (r->tx == r->end || !r->len)
		return 0;
	off = (r->head + r->tx_off) % r->wrap;
	n = rec_len(r, off, NULL) - REPLAY_REC_HDR;
	off = (off + REPLAY_REC_HDR) % r->wrap;
	first = n < r->wrap - off ? n : r->wrap - off;
	*a = r->buf + off;
	*alen = first;
	*b = r->buf;
	*blen = n - first;
	return 1;
}

void replay_advance(struct replay *r)
{
	r->tx_off += rec_len(r, (r->head + r->tx_off) % r->wrap, NULL);
	r->tx++;
}

int replay_check_ack(const struct replay *r, uint64_t n, const char **why)
{
	if (n > r->tx) {
		*why = "acknowledges more frames than were sent";
		return -EPROTO;
	}
	if (n < r->acked) {
		*why = "acknowledges fewer frames than it did before";
		return -EPROTO;
	}
	return 0;
}

void replay_ack(struct replay *r, uint64_t n)
{
	while (r->len && r->base < n)
		drop_oldest(r);
	if (r->base < n)
		r->base = n;
	if (r->tx < r->base) {
		r->tx = r->base;
		r->tx_off = 0;
	}
	if (n > r->acked)
		r->acked = n;
}

int replay_resume(struct replay *r, uint64_t n, uint64_t *from, uint64_t *gap,
		  const char **why)
{
	if (n > r->end) {
		*why = "resumes after more frames than were ever sent";
		return -EPROTO;
	}
	if (n < r->acked) {
		*why = "resumes behind what it acknowledged before";
		return -EPROTO;
	}
	r->tx = r->base;
	r->tx_off = 0;
	replay_ack(r, n);
	*from = r->base;
	*gap = r->base - n;
	r->tx = r->base;
	r->tx_off = 0;
	r->skipped = 0;
	return 0;
}

int replay_check_from(uint64_t rx, uint64_t from, const char **why)
{
	if (from < rx) {
		*why = "replays from behind what was received";
		return -EPROTO;
	}
	return 0;
}
