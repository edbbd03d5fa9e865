/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Which (origin, sequence) pairs this node has already handled, so that
 * meshes and rings of relays neither loop nor duplicate. Per origin a
 * sliding window of SEEN_WINDOW sequence numbers, like IPsec anti-replay;
 * a bounded table of origins, the least recently heard evicted first.
 *
 * A sequence number more than SEEN_JUMP from an origin's highest, ahead or
 * behind, moves nothing on its own: one frame (seq 2^64 - 1, say) must not
 * make every later one of that origin stale. It is held as a candidate and
 * dropped; a second such number above the candidate confirms the jump and
 * the window starts over there. Real streams never jump that far (2^32
 * datagrams of the origin unseen here), so genuine traffic loses at most
 * the candidate, and only where the window had been pushed off.
 */
#ifndef MCTUN_SEEN_H
#define MCTUN_SEEN_H

#include <stdbool.h>
#include <stdint.h>

#define SEEN_WINDOW  8192u
#define SEEN_ORIGINS 256u
#define SEEN_JUMP    (1ull << 32)

struct seen_origin {
	uint64_t origin;
	uint64_t top;             /* highest sequence number seen */
	uint64_t last_used;       /* table clock, for eviction */
	uint64_t cand;            /* a far sequence number held, if has_cand */
	bool has_cand;
	uint64_t bits[SEEN_WINDOW / 64];
	bool used;
};

struct seen {
	struct seen_origin o[SEEN_ORIGINS];
	uint64_t clock;
	unsigned int hint;        /* the slot found last: frames come in runs of one origin */
};

enum seen_verdict {
	SEEN_NEW   = 0,
	SEEN_DUP   = 1,           /* inside the window, already seen */
	SEEN_STALE = 2,           /* older than the window: treated as seen */
	SEEN_JUMP_HELD = 3,       /* more than SEEN_JUMP from the window: held, not taken */
};

/* Records (origin, seq) and says whether it was new. */
enum seen_verdict seen_check(struct seen *s, uint64_t origin, uint64_t seq);

#endif
