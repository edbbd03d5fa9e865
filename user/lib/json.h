/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Writing JSON strings that parse, whatever bytes they are given. */
#ifndef MCTUN_JSON_H
#define MCTUN_JSON_H

#include <stdio.h>

/*
 * s as a JSON string, quotes included: '"' and '\' escaped, control
 * characters as \u00XX, well-formed UTF-8 as it is, and each ill-formed
 * part (a stray byte, a cut or overlong sequence, a surrogate) as one
 * \ufffd, as Unicode recommends. Interface names, file names and what a
 * peer sent may be any bytes: the output is valid JSON for all of them.
 */
void json_string(FILE *f, const char *s);

#endif
