// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * json_string() (user/lib/json.c) on any bytes up to the first NUL.
 *
 * The output is read back with a JSON string parser written for this
 * harness (RFC 8259: quotes, escapes, no raw control characters) and its
 * decoded text checked with a UTF-8 decoder written differently from the
 * writer's (code points, then their ranges):
 *   - the output is one JSON string, nothing after it;
 *   - \u escapes are never lone surrogates, and the decoded text is
 *     well-formed UTF-8;
 *   - input that is well-formed UTF-8 decodes back to itself;
 *   - otherwise the decoded text holds a U+FFFD, and the input's bytes
 *     that were not replaced come back in order.
 */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "json.h"

/* The code point at s[0..len) and its length; 0 when ill-formed. */
static size_t utf8_decode(const uint8_t *s, size_t len, uint32_t *cp)
{
	size_t n, i;
	uint32_t v, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0)
		n = 2, v = s[0] & 0x1f, min = 0x80;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, v = s[0] & 0x0f, min = 0x800;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, v = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

static bool utf8_valid(const uint8_t *s, size_t len)
{
	uint32_t cp;
	size_t n;

	while (len) {
		n = utf8_decode(s, len, &cp);
		if (!n)
			return false;
		s += n;
		len -= n;
	}
	return true;
}

static size_t utf8_put(uint32_t cp, uint8_t *out)
{
	if (cp < 0x80) {
		out[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = 0xc0 | cp >> 6;
		out[1] = 0x80 | (cp & 0x3f);
		return 2;
	}
	out[0] = 0xe0 | cp >> 12;
	out[1] = 0x80 | (cp >> 6 & 0x3f);
	out[2] = 0x80 | (cp & 0x3f);
	return 3;
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parses the JSON string that is all of j; its text into out. */
static size_t json_decode(const uint8_t *j, size_t len, uint8_t *out)
{
	size_t i = 1, o = 0;

	CHECK(len >= 2 && j[0] == '"', "not a JSON string (%zu bytes)", len);
	while (i < len && j[i] != '"') {
		CHECK(j[i] >= 0x20, "raw control character 0x%02x at %zu", j[i], i);
		if (j[i] != '\\') {
			out[o++] = j[i++];
			continue;
		}
		CHECK(i + 1 < len, "escape at the end");
		switch (j[i + 1]) {
		case '"': case '\\': case '/':
			out[o++] = j[i + 1];
			i += 2;
			break;
		case 'b': out[o++] = '\b'; i += 2; break;
		case 'f': out[o++] = '\f'; i += 2; break;
		case 'n': out[o++] = '\n'; i += 2; break;
		case 'r': out[o++] = '\r'; i += 2; break;
		case 't': out[o++] = '\t'; i += 2; break;
		case 'u': {
			uint32_t cp = 0;
			int k, h;

			CHECK(i + 6 <= len, "short \\u escape");
			for (k = 0; k < 4; k++) {
				h = hexval(j[i + 2 + k]);
				CHECK(h >= 0, "bad hex digit in \\u escape");
				cp = cp << 4 | h;
			}
			/* the writer never needs pairs: a surrogate here is a lone one */
			CHECK(cp < 0xd800 || cp > 0xdfff, "lone surrogate \\u%04x", cp);
			o += utf8_put(cp, out + o);
			i += 6;
			break;
		}
		default:
			CHECK(0, "unknown escape \\%c", j[i + 1]);
		}
	}
	CHECK(i == len - 1, "%zu bytes after the string", len - 1 - i);
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t fffd[] = { 0xef, 0xbf, 0xbd };
	char *in = malloc(size + 1), *js = NULL;
	size_t jlen = 0, n, dlen, i, k;
	uint8_t *dec;
	FILE *f;

	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	n = strlen(in);
	f = open_memstream(&js, &jlen);
	CHECK(f, "open_memstream");
	json_string(f, in);
	CHECK(!fclose(f), "fclose");
	/* at most 6 bytes out per byte in (\u00XX, \ufffd), and the quotes */
	CHECK(jlen <= 6 * n + 2, "output %zu bytes for %zu in", jlen, n);
	dec = malloc(jlen + 1);
	CHECK(dec, "malloc");
	dlen = json_decode((const uint8_t *)js, jlen, dec);
	CHECK(utf8_valid(dec, dlen), "decoded text is not UTF-8");
	if (utf8_valid((const uint8_t *)in, n)) {
		CHECK(dlen == n && !memcmp(dec, in, n), "well-formed input changed");
	} else {
		CHECK(memmem(dec, dlen, fffd, sizeof(fffd)), "ill-formed input without U+FFFD");
		/* what was kept is a subsequence of the input, in order */
		for (i = 0, k = 0; i < dlen; i++) {
			if (i + 3 <= dlen && !memcmp(dec + i, fffd, 3) &&
			    (k + 3 > n || memcmp(in + k, fffd, 3))) {
				i += 2;
				continue;
			}
			while (k < n && (uint8_t)in[k] != dec[i])
				k++;
			CHECK(k < n, "decoded byte %zu is not from the input", i);
			k++;
		}
	}
	free(dec);
	free(js);
	free(in);
	return 0;
}
