// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Request heads as RFC 9112 writes them: "METHOD SP TARGET SP HTTP/1.x",
 * header lines, a blank line. A bare LF ends a line too (the RFC allows a
 * recipient to take it); header values are not looked at, since nothing
 * the server does depends on them.
 */
#include <stdio.h>
#include <string.h>

#include "http.h"

/* RFC 9110 tchar: the characters of a method token. */
static int is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* One line of buf starting at *pos: its length without CR LF, and *pos
 * moved past it; -1 when the line has not ended yet. */
static long next_line(const char *buf, size_t len, size_t *pos)
{
	const char *nl = memchr(buf + *pos, '\n', len - *pos);
	size_t n;

	if (!nl)
		return -1;
	n = nl - (buf + *pos);
	*pos += n + 1;
	if (n && nl[-1] == '\r')
		n--;
	return n;
}

static int parse_request_line(const char *s, size_t n, struct http_request *r)
{
	size_t i = 0, m, t;

	for (m = 0; i < n && is_tchar(s[i]); i++, m++)
		;
	if (!m || i == n || s[i] != ' ')
		return -400;
	if (m >= sizeof(r->method))
		return -501;
	memcpy(r->method, s, m);
	r->method[m] = '\0';
	i++;
	for (t = 0; i < n && s[i] > ' ' && s[i] < 0x7f; i++, t++)
		;
	if (!t || i == n || s[i] != ' ')
		return -400;
	if (t >= sizeof(r->path))
		return -414;
	memcpy(r->path, s + m + 1, t);
	r->path[t] = '\0';
	r->path[strcspn(r->path, "?")] = '\0';
	i++;
	if (n - i != 8 || memcmp(s + i, "HTTP/", 5) || s[i + 5] < '0' || s[i + 5] > '9' ||
	    s[i + 6] != '.' || s[i + 7] < '0' || s[i + 7] > '9')
		return -400;
	if (s[i + 5] != '1')
		return -505;
	r->minor = s[i + 7] - '0';
	return 0;
}

int http_parse(const char *buf, size_t len, struct http_request *r)
{
	size_t pos = 0, start;
	const char *colon;
	long n;
	int err;

	if (memchr(buf, '\0', len))
		return -400;
	/* empty lines before the request line are ignored (RFC 9112, 2.2) */
	do {
		start = pos;
		n = next_line(buf, len, &pos);
		if (n < 0)
			return 0;
	} while (n == 0);
	err = parse_request_line(buf + start, n, r);
	if (err)
		return err;
	for (;;) {
		start = pos;
		n = next_line(buf, len, &pos);
		if (n < 0)
			return 0;
		if (n == 0)
			return (int)pos;
		/* a field line: "name: value", no white space before the colon, no
		 * stray CR, no continuation lines */
		colon = memchr(buf + start, ':', n);
		if (!colon || colon == buf + start || colon[-1] == ' ' || colon[-1] == '\t' ||
		    buf[start] == ' ' || buf[start] == '\t' || memchr(buf + start, '\r', n))
			return -400;
	}
}

int http_route(const struct http_request *r)
{
	if (strcmp(r->path, HTTP_METRICS_PATH))
		return 404;
	if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD"))
		return 405;
	return 200;
}

const char *http_reason(int code)
{
	switch (code) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default:  return "Error";
	}
}

int http_head(char *buf, size_t len, int code, const char *type, size_t body_len)
{
	return snprintf(buf, len,
			"HTTP/1.1 %d %s\r\n"
			"Content-Type: %s\r\n"
			"Content-Length: %zu\r\n"
			"%s"
			"Connection: close\r\n"
			"\r\n",
			code, http_reason(code), type, body_len,
			code == 405 ? "Allow: GET, HEAD\r\n" : "");
}
