// SPDX-License-Identifier: MIT
/* ------------------------------------------------------------------------
 * msgpack writer. Hand-written because the records are built in the stop
 * handler, between a ptrace resume and the next wait, where a library's
 * allocation and callback layers would cost more than the encoding itself;
 * we need only nine encoders and no decoder (the Python side decodes with
 * msgpack). Round-trip tested against msgpack with hypothesis.
 * ---------------------------------------------------------------------- */

#include "tr_internal.h"

/* array and map headers: fix form, then 16- and 32-bit counts (tag, tag + 1) */
static void tr_mp_container(struct tr_buf *b, unsigned int n, uint8_t fix, uint8_t tag16)
{
	if (n < 16)
		tr_put8(b, fix | n);
	else if (n < 65536)
		tr_putbe(b, tag16, n, 2);
	else
		tr_putbe(b, tag16 + 1, n, 4);
}

void tr_mp_array(struct tr_buf *b, unsigned int n)
{
	tr_mp_container(b, n, 0x90, 0xdc);
}

void tr_mp_map(struct tr_buf *b, unsigned int n)
{
	tr_mp_container(b, n, 0x80, 0xde);
}

void tr_mp_uint(struct tr_buf *b, unsigned long long v)
{
	if (v < 128)
		tr_put8(b, (uint8_t)v);
	else if (v < 256)
		tr_putbe(b, 0xcc, v, 1);
	else if (v < 65536)
		tr_putbe(b, 0xcd, v, 2);
	else if (v <= 0xffffffffull)
		tr_putbe(b, 0xce, v, 4);
	else
		tr_putbe(b, 0xcf, v, 8);
}

void tr_mp_int(struct tr_buf *b, long long v)
{
	if (v >= 0)
		tr_mp_uint(b, (unsigned long long)v);
	else if (v >= -32)
		tr_put8(b, (uint8_t)(int8_t)v);
	else if (v >= -128)
		tr_putbe(b, 0xd0, (uint8_t)(int8_t)v, 1);
	else if (v >= -32768)
		tr_putbe(b, 0xd1, (uint16_t)(int16_t)v, 2);
	else if (v >= -2147483648LL)
		tr_putbe(b, 0xd2, (uint32_t)(int32_t)v, 4);
	else
		tr_putbe(b, 0xd3, (uint64_t)v, 8);
}

void tr_mp_nil(struct tr_buf *b)
{
	tr_put8(b, 0xc0);
}

void tr_mp_bool(struct tr_buf *b, int v)
{
	tr_put8(b, v ? 0xc3 : 0xc2);
}

void tr_mp_raw(struct tr_buf *b, const void *p, size_t n)
{
	if (n && tr_room(b, n)) {
		memcpy(b->p + b->len, p, n);
		b->len += n;
	}
}

static void tr_mp_binhdr(struct tr_buf *b, size_t n)
{
	if (n < 256)
		tr_putbe(b, 0xc4, n, 1);
	else if (n < 65536)
		tr_putbe(b, 0xc5, n, 2);
	else
		tr_putbe(b, 0xc6, n, 4);
}

void tr_mp_bin(struct tr_buf *b, const void *p, size_t n)
{
	tr_mp_binhdr(b, n);
	tr_mp_raw(b, p, n);
}

void tr_mp_str(struct tr_buf *b, const char *p, size_t n)
{
	if (n < 32)
		tr_put8(b, 0xa0 | (uint8_t)n);
	else if (n < 256)
		tr_putbe(b, 0xd9, n, 1);
	else if (n < 65536)
		tr_putbe(b, 0xda, n, 2);
	else
		tr_putbe(b, 0xdb, n, 4);
	tr_mp_raw(b, p, n);
}

int tr_buf_reserve(struct tr_buf *b, size_t n)
{
	size_t cap;
	unsigned char *p;

	if (b->cap - b->len >= n)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap - b->len < n)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}
