// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The --resume window (user/lib/replay.c) driven by arbitrary operations,
 * against what it must keep true: what a peer says (ACK, RESUME, REPLAY
 * counts, any 64-bit value) is refused exactly when it lies, and whatever
 * is believed leaves the window consistent.
 *
 * Invariants, after every operation:
 * - base <= tx <= end, acked <= end, held bytes within the buffer;
 * - frames come out of it whole, in order, each with its own number (the
 *   frame carries its number and a filler byte derived from it);
 * - replay_check_ack refuses n exactly when n > tx or n < acked;
 *   replay_resume exactly when n > end or n < acked, and then says
 *   from >= n, gap = from - n, and sends from `from` on;
 * - replay_check_from refuses exactly when from < rx;
 * - frames put with no buffer (out of the window) are numbered, not kept.
 *
 * Input: 3-byte operations: the operation, then a 16-bit argument d.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "replay.h"

#define CAP  4096          /* small: wrapping and pushing out are the point */
#define FMAX 300

static struct replay r;
static uint64_t now;

static void consistent(void)
{
	CHECK(r.base <= r.tx && r.tx <= r.end, "base %llu tx %llu end %llu",
	      (unsigned long long)r.base, (unsigned long long)r.tx, (unsigned long long)r.end);
	CHECK(r.acked <= r.end, "acked %llu end %llu", (unsigned long long)r.acked,
	      (unsigned long long)r.end);
	CHECK(r.len <= r.cap && (r.buf || !r.len), "len %zu cap %zu", r.len, r.cap);
	CHECK(r.len || r.base == r.end, "nothing held, base %llu end %llu",
	      (unsigned long long)r.base, (unsigned long long)r.end);
}

static void send_some(unsigned int max)
{
	const uint8_t *a, *b;
	size_t alen, blen;
	unsigned int i;

	for (i = 0; i < max && replay_peek(&r, &a, &alen, &b, &blen); i++) {
		uint8_t f[FMAX];
		uint64_t n;

		CHECK(alen + blen >= 9 && alen + blen <= FMAX, "frame of %zu bytes", alen + blen);
		memcpy(f, a, alen);
		memcpy(f + alen, b, blen);
		memcpy(&n, f, 8);
		CHECK(n == r.tx, "frame %llu sent as %llu", (unsigned long long)n,
		      (unsigned long long)r.tx);
		CHECK(f[alen + blen - 1] == (uint8_t)(n * 7), "frame %llu damaged",
		      (unsigned long long)n);
		replay_advance(&r);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	unsigned int ops = 0;

	memset(&r, 0, sizeof(r));
	now = 1000000;
	if (replay_init(&r, CAP))
		return 0;
	while (in.len >= 3 && ops++ < 4096) {
		unsigned int op = fuzz_take(&in, 1);
		uint64_t d = fuzz_take(&in, 2), n, from, gap;
		const char *why = NULL;
		int err;

		switch (op % 8) {
		case 0:
		case 1: {
			uint8_t f[FMAX];
			size_t len = 9 + d % (FMAX - 9);
			size_t limit = op & 0x80 ? (d >> 4) * 64 : SIZE_MAX;

			memset(f, 0xee, sizeof(f));
			memcpy(f, &r.end, 8);
			f[len - 1] = (uint8_t)(r.end * 7);
			now += d & 0xf;
			replay_put(&r, limit, now, f, len / 2, f + len / 2, len - len / 2);
			break;
		}
		case 2:
			send_some(d % 16);
			break;
		case 3:
			/* around what was acknowledged and sent, or anything */
			n = op & 0x80 ? d << (op & 0x30) : r.acked + d % 64 - 16;
			err = replay_check_ack(&r, n, &why);
			CHECK(!err == !(n > r.tx || n < r.acked), "ack %llu: %d (tx %llu acked %llu)",
			      (unsigned long long)n, err, (unsigned long long)r.tx,
			      (unsigned long long)r.acked);
			CHECK(!err || (err == -EPROTO && why && *why), "a refusal without a reason");
			if (!err)
				replay_ack(&r, n);
			break;
		case 4:
			n = op & 0x80 ? d << (op & 0x30) : r.acked + d % 64 - 16;
			{
				uint64_t end = r.end, acked = r.acked;

				err = replay_resume(&r, n, &from, &gap, &why);
				CHECK(!err == !(n > end || n < acked), "resume %llu: %d (end %llu "
				      "acked %llu)", (unsigned long long)n, err,
				      (unsigned long long)end, (unsigned long long)acked);
				if (!err)
					CHECK(from >= n && gap == from - n && r.tx == from &&
					      r.end == end, "resume %llu: from %llu gap %llu tx %llu",
					      (unsigned long long)n, (unsigned long long)from,
					      (unsigned long long)gap, (unsigned long long)r.tx);
			}
			break;
		case 5:
			replay_expire(&r, now - (d & 0xff));
			break;
		case 6:
			n = r.end + d % 64 - 32;
			from = r.end + (d >> 6) % 64 - 32;
			err = replay_check_from(n, from, &why);
			CHECK(!err == !(from < n), "replay from %llu at %llu: %d",
			      (unsigned long long)from, (unsigned long long)n, err);
			break;
		default:
			/* out of the window for good, and back */
			if (d & 1) {
				replay_free(&r);
				CHECK(r.base == r.end && !r.len, "freed, yet held");
			} else if (replay_init(&r, CAP)) {
				return 0;
			}
			break;
		}
		consistent();
	}
	replay_free(&r);
	return 0;
}
