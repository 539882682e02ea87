// SPDX-License-Identifier: MIT
/* ------------------------------------------------------------------------
 * The fetch plan.
 * ---------------------------------------------------------------------- */

#include "tr_internal.h"

static uint16_t tr_le16(const unsigned char *p)
{
	return p[0] | (p[1] << 8);
}

uint32_t tr_le32(const unsigned char *p)
{
	return p[0] | (p[1] << 8) | (p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* One op's fields, as docs/fetch-plan.md allows them (a COND's reach is
 * checked against its entry by the caller). */
static int tr_op_valid(const struct tr_op *op)
{
	if (op->phase > 1 || op->kind < TR_OP_CSTR || op->kind > TR_OP_COND)
		return 0;
	switch (op->kind) {
	case TR_OP_DEREF:
		/* arg: the argument and the pointer's and count's widths */
		if ((op->arg & 7) > 5)
			return 0;
		if (op->len_src == TR_LEN_FIELD)
			return 1;
		if (op->len_src > 5 && op->len_src != TR_LEN_FIXED)
			return 0;
		return !(op->arg & (3 << TR_DEREF_LEN_SHIFT));
	case TR_OP_FD_AT:
		return (op->arg & 7) <= 5 && !(op->arg & ~(7 | TR_FD_AT_PTR | TR_FD_AT_PTR64)) &&
		       (op->arg & TR_FD_AT_PTR || !(op->arg & TR_FD_AT_PTR64)) && op->len_src == TR_LEN_NONE &&
		       op->size < TR_FD_AT_OFF_MAX;
	case TR_OP_COND:
		return op->arg <= 5 && op->len_src >= 1 && op->len_src <= TR_COND_MAX;
	case TR_OP_MSGHDR:
		return (op->arg & 7) <= 5 && !(op->arg & ~(7 | TR_MSGHDR_CTL_FULL)) && op->len_src != TR_LEN_FIELD &&
		       op->len_src != TR_LEN_IOC;
	case TR_OP_FD:
		return op->arg <= TR_FD_RET && !(op->arg == TR_FD_RET && op->len_src != TR_LEN_NONE) &&
		       !(op->arg == TR_FD_RET && op->phase != 1) &&
		       !(op->len_src > 5 && op->len_src != TR_LEN_NONE && op->len_src != TR_LEN_FIXED) &&
		       !(op->len_src == TR_LEN_FIXED && op->size > TR_FD_ARRAY_MAX) &&
		       !(op->len_src <= 5 && op->size && (op->size < 4 || op->size > TR_FD_STRIDE_MAX));
	default:
		if (op->kind != TR_OP_STACK && op->arg > 5)
			return 0;
		if (op->len_src == TR_LEN_FIELD)
			return 0;
		return !(op->len_src == TR_LEN_IOC && op->kind != TR_OP_BUF);
	}
}

void tr_plan_free(struct tr_plan *pl)
{
	free(pl->ent);
	free(pl->ops);
	free(pl->tamper);
	free(pl->pokes);
	free(pl->tamper_raw);
	free(pl->tpaths);
	memset(pl, 0, sizeof(*pl));
}

int tr_plan_parse(struct tr_plan *pl, const unsigned char *p, size_t len)
{
	size_t off = 16, nops_total = 0, o;
	int count;

	memset(pl, 0, sizeof(*pl));
	memset(pl->idx, 0xff, sizeof(pl->idx));
	if (len < 16 || memcmp(p, "TRFP", 4) || tr_le16(p + 4) != TR_PLAN_VERSION)
		return -EINVAL;
	count = tr_le16(p + 6);
	pl->strsize = tr_le32(p + 8);
	pl->flags = tr_le32(p + 12);
	if (!pl->strsize)
		pl->strsize = 32;
	/* first pass: validate and count ops */
	for (int i = 0; i < count; i++) {
		if (off + 8 > len)
			return -EINVAL;
		if (p[off] > TR_PERS_X32)
			return -EINVAL;
		nops_total += p[off + 1];
		off += 8 + 8 * (size_t)p[off + 1];
		if (off > len)
			return -EINVAL;
	}
	if (off != len && !(pl->flags & TR_PF_TAMPER))
		return -EINVAL;
	pl->count = count;
	pl->ent = calloc(count ? count : 1, sizeof(*pl->ent));
	pl->ops = calloc(nops_total ? nops_total : 1, sizeof(*pl->ops));
	if (!pl->ent || !pl->ops) {
		tr_plan_free(pl);
		return -ENOMEM;
	}
	off = 16;
	o = 0;
	for (int i = 0; i < count; i++) {
		struct tr_pentry *e = &pl->ent[i];

		e->pers = p[off];
		e->nops = p[off + 1];
		e->eflags = tr_le16(p + off + 2);
		e->nr = tr_le32(p + off + 4) & ~TR_X32_SYSCALL_BIT;
		e->ops = &pl->ops[o];
		off += 8;
		for (int j = 0; j < e->nops; j++, o++, off += 8) {
			struct tr_op *op = &pl->ops[o];

			op->phase = p[off];
			op->kind = p[off + 1];
			op->arg = p[off + 2];
			op->len_src = p[off + 3];
			op->size = tr_le32(p + off + 4);
			if (!tr_op_valid(op)) {
				tr_plan_free(pl);
				return -EINVAL;
			}
		}
		/* a COND gates ops of its own phase within its entry */
		for (int j = 0; j < e->nops; j++) {
			const struct tr_op *op = &e->ops[j];

			if (op->kind != TR_OP_COND)
				continue;
			if (j + op->len_src >= e->nops) {
				tr_plan_free(pl);
				return -EINVAL;
			}
			for (int k = 1; k <= op->len_src; k++)
				if (e->ops[j + k].phase != op->phase) {
					tr_plan_free(pl);
					return -EINVAL;
				}
		}
		if (e->nr < TR_NR_DIRECT)
			pl->idx[e->pers][e->nr] = i;
	}
	if (pl->flags & TR_PF_TAMPER) {
		/* tamper.c: the -e inject=/fault= rules after the entries */
		long end = tr_tamper_parse(pl, p, off, len);

		if (end < 0 || (size_t)end != len) {
			tr_plan_free(pl);
			return end < 0 ? (int)end : -EINVAL;
		}
	}
	return count;
}

struct tr_pentry *tr_plan_lookup(struct tr_plan *pl, int pers, uint32_t nr)
{
	nr &= ~TR_X32_SYSCALL_BIT;
	if (nr < TR_NR_DIRECT) {
		int32_t i = pl->idx[pers][nr];

		return i < 0 ? NULL : &pl->ent[i];
	}
	for (int i = 0; i < pl->count; i++)
		if (pl->ent[i].pers == pers && pl->ent[i].nr == nr)
			return &pl->ent[i];
	return NULL;
}

int tr_plan_check(const unsigned char *plan, size_t len)
{
	struct tr_plan *pl = malloc(sizeof(*pl));
	int r;

	if (!pl)
		return -ENOMEM;
	r = tr_plan_parse(pl, plan, len);
	if (r >= 0)
		tr_plan_free(pl);
	free(pl);
	return r;
}
