// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>

#include "utframe.h"

int ut_frame_parse(const uint8_t *buf, size_t len, uint32_t max, uint32_t *plen,
		   const char **why)
{
	if (len < UT_HDR_LEN)
		return 0;
	*plen = (uint32_t)buf[0] << 8 | buf[1];
	if (*plen > max) {
		*why = "length over the largest datagram of the group's family";
		return -EBADMSG;
	}
	if (len - UT_HDR_LEN < *plen)
		return 0;
	return UT_HDR_LEN + (int)*plen;
}

int ut_frame_put_hdr(uint8_t *buf, uint32_t plen)
{
	if (!plen || plen > UT_MAX_LEN)
		return -EMSGSIZE;
	buf[0] = plen >> 8;
	buf[1] = plen;
	return UT_HDR_LEN;
}
