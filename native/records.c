// SPDX-License-Identifier: MIT
/* ------------------------------------------------------------------------
 * Frames and records.
 * ---------------------------------------------------------------------- */

#include "tr_internal.h"

static void tr_put_le(unsigned char *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Write everything, waiting for room when the fd is non-blocking. */
static int tr_write_all(int fd, const unsigned char *p, size_t n)
{
	size_t off = 0;

	while (off < n) {
		ssize_t w = write(fd, p + off, n - off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pfd = { fd, POLLOUT, 0 };

				poll(&pfd, 1, -1);
				continue;
			}
			return -errno;
		}
		off += w;
	}
	return 0;
}

/* Drop mode: the rest of a frame the pipe took only part of. It must go
 * out whole before anything else; until it has, new batches are dropped. */
int tr_push_tail(struct tr_loop *L, int block)
{
	while (L->tail_off < L->tail_len) {
		ssize_t w = write(L->cfg->out_fd, L->tail + L->tail_off, L->tail_len - L->tail_off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pfd = { L->cfg->out_fd, POLLOUT, 0 };

				if (!block)
					return 1;
				poll(&pfd, 1, -1);
				continue;
			}
			L->consumer_gone = 1;
			return -1;
		}
		L->tail_off += w;
	}
	L->tail_len = L->tail_off = 0;
	return 0;
}

/* Drop mode: write the frame if the consumer has room, keep the rest of a
 * partial write as the tail; 1 = dropped. */
static int tr_write_drop(struct tr_loop *L)
{
	ssize_t w;

	if (L->tail_len && tr_push_tail(L, L->final) != 0)
		return 1;
	for (;;) {
		w = write(L->cfg->out_fd, L->out.p, L->out.len);
		if (w < 0 && errno == EINTR)
			continue;
		break;
	}
	if (w < 0) {
		if (errno != EAGAIN) {
			L->consumer_gone = 1;
			return 0;
		}
		if (!L->final)
			return 1;
		w = 0;
	}
	if ((size_t)w < L->out.len) {
		size_t rest = L->out.len - w;
		unsigned char *p = realloc(L->tail, rest);

		if (!p)
			return tr_write_all(L->cfg->out_fd, L->out.p + w, rest) < 0 ? (L->consumer_gone = 1, 0) : 0;
		L->tail = p;
		memcpy(L->tail, L->out.p + w, rest);
		L->tail_len = rest;
		L->tail_off = 0;
		if (L->final)
			tr_push_tail(L, 1);
	}
	return 0;
}

void tr_frame_header(struct tr_loop *L)
{
	unsigned char *h = L->out.p;

	tr_put_le(h, TR_FRAME_MAGIC, 2);
	h[2] = TR_WIRE_VERSION;
	h[3] = 0; /* FrameKind.RECORDS */
	tr_put_le(h + 4, L->cfg->session, 4);
	tr_put_le(h + 8, L->batch_first, 8);
	tr_put_le(h + 16, L->batch_count, 4);
	tr_put_le(h + 20, L->out.len - TR_FRAME_HEADER_SIZE, 4);
}

void tr_flush(struct tr_loop *L)
{
	const struct tr_config *c = L->cfg;
	int dropped = 0, r;

	if (!L->batch_count) {
		if (L->tail_len && !L->consumer_gone)
			tr_push_tail(L, L->final);
		return;
	}
	if (!L->consumer_gone) {
		tr_frame_header(L);
		if (c->drop) {
			r = 0;
			dropped = tr_write_drop(L);
		} else {
			r = tr_write_all(c->out_fd, L->out.p, L->out.len);
		}
		if (r < 0 || L->consumer_gone) {
			L->consumer_gone = 1;
		} else if (dropped) {
			uint64_t n = L->batch_count - (L->batch_lost ? 1 : 0);

			L->st->lost += n;
			L->lost_unreported += n + L->batch_lost;
		} else {
			L->st->frames++;
			L->st->bytes += L->out.len;
		}
	}
	tr_begin_batch(L);
}

void tr_begin_batch(struct tr_loop *L)
{
	L->out.len = TR_FRAME_HEADER_SIZE;
	L->out.overflow = 0;
	L->batch_count = 0;
	L->batch_first = L->seq;
	L->batch_lost = 0;
	if (L->lost_unreported && !L->consumer_gone) {
		uint64_t n = L->lost_unreported;

		/* reported optimistically; re-added if this batch is dropped */
		L->lost_unreported = 0;
		L->batch_lost = n;
		tr_rec_head(L, TR_REC_LOST, 6, NULL, tr_now(CLOCK_REALTIME));
		tr_mp_uint(&L->out, n);
	}
}

/* EXEC: like tr_emit_simple's, with the new program's personality in the
 * ext map when it is not x86_64 (`pers`, beside `nspid`). */
void tr_emit_exec(struct tr_loop *L, struct tr_task *t, int old, int pers)
{
	struct tr_buf *b = &L->out;
	int ns = t->ns_tid || t->ns_tgid;

	if (pers == TR_PERS_X86_64) {
		tr_emit_simple(L, TR_REC_EXEC, t, 1, old, 0);
		return;
	}
	tr_split_others(L, t);
	tr_rec_room(L, 160);
	/* tr_rec_head counts the ext map when there are ns ids: one trailing
	 * element in both cases */
	tr_rec_head(L, TR_REC_EXEC, 6 + !ns, t, tr_now(CLOCK_REALTIME));
	tr_mp_int(b, old);
	tr_mp_map(b, 1 + ns);
	tr_mp_str(b, "pers", 4);
	tr_mp_uint(b, (uint64_t)pers);
	if (ns) {
		tr_mp_str(b, "nspid", 5);
		tr_mp_array(b, 2);
		tr_mp_uint(b, t->ns_tid ? t->ns_tid : t->xtid);
		tr_mp_uint(b, t->ns_tgid ? t->ns_tgid : t->xtgid);
	}
	if (L->out.len - TR_FRAME_HEADER_SIZE >= L->cfg->batch_bytes)
		tr_flush(L);
}

/* Write a record's array header and its five common fields. nfields counts
 * the type's fields (tracerd._wire.FIELDS); the ext map is added when the
 * task lives in another pid namespace (tr_rec_end writes it). */
void tr_rec_head(struct tr_loop *L, int type, unsigned int nfields, struct tr_task *t, int64_t ts)
{
	struct tr_buf *b = &L->out;
	int ip = t && (L->plan.flags & TR_PF_IP) &&
		 (type == TR_REC_SYSCALL || type == TR_REC_SYSCALL_ENTRY || type == TR_REC_SIGNAL);
	/* -k: the frames unwound at the call's entry, on its entry record (a
	 * split call) or its whole record; the exit record of a split call has
	 * none (they went out already) */
	int stk = t && t->stk_n && (L->plan.flags & TR_PF_STACK) &&
		  ((type == TR_REC_SYSCALL && !(t->flags & T_SPLIT)) || type == TR_REC_SYSCALL_ENTRY ||
		   (type == TR_REC_SIGNAL && !(t->flags & T_INSYS)));
	int has_ext = (t && (t->ns_tid || t->ns_tgid)) || ip || stk;

	L->rec_ip = ip;
	L->rec_stk = stk;
	if (!L->batch_count) {
		L->batch_first = L->seq;
		if (L->linger_ns)
			L->batch_t0 = tr_now(CLOCK_MONOTONIC);
	}
	tr_mp_array(b, nfields + has_ext);
	tr_put8(b, (uint8_t)type);
	tr_mp_uint(b, L->seq++);
	tr_mp_uint(b, (uint64_t)ts);
	/* as the consumer's pid namespace numbers them (tasks.c) */
	tr_mp_uint(b, t ? (uint64_t)t->xtid : 0);
	tr_mp_uint(b, t ? (uint64_t)t->xtgid : 0);
	L->batch_count++;
	L->st->records++;
}

void tr_rec_end(struct tr_loop *L, struct tr_task *t)
{
	struct tr_buf *b = &L->out;

	int ns = t && (t->ns_tid || t->ns_tgid);

	if (ns || L->rec_ip || L->rec_stk) {
		tr_mp_map(b, (unsigned int)ns + (L->rec_ip ? 1u : 0u) + (L->rec_stk ? 1u : 0u));
		if (ns) {
			tr_mp_str(b, "nspid", 5);
			tr_mp_array(b, 2);
			tr_mp_uint(b, t->ns_tid ? t->ns_tid : t->xtid);
			tr_mp_uint(b, t->ns_tgid ? t->ns_tgid : t->xtgid);
		}
		if (L->rec_ip) {
			tr_mp_str(b, "ip", 2);
			tr_mp_uint(b, t->ip);
		}
		if (L->rec_stk) {
			tr_mp_str(b, "stack", 5);
			tr_mp_array(b, t->stk_n);
			tr_mp_raw(b, t->stk, t->stk_len);
			t->stk_n = 0; /* written once */
			t->stk_len = 0;
		}
		L->rec_ip = 0;
		L->rec_stk = 0;
	}
	if (L->out.len - TR_FRAME_HEADER_SIZE >= L->cfg->batch_bytes)
		tr_flush(L);
}

/* Records may be large (argv, buffers): make room before writing one so
 * the writer never overflows; a record that cannot fit in a frame is
 * replaced by an ERROR record. */
int tr_rec_room(struct tr_loop *L, size_t need)
{
	if (L->out.len + need > L->out.cap) {
		tr_flush(L);
		if (L->out.len + need > L->out.cap)
			return -1;
	}
	return 0;
}

void tr_rec_error(struct tr_loop *L, struct tr_task *t, int err, const char *msg)
{
	tr_rec_room(L, 256 + strlen(msg));
	tr_rec_head(L, TR_REC_ERROR, 7, t, tr_now(CLOCK_REALTIME));
	tr_mp_uint(&L->out, err);
	tr_mp_str(&L->out, msg, strlen(msg));
	tr_rec_end(L, t);
}

static void tr_args(struct tr_buf *b, const uint64_t *a)
{
	tr_mp_array(b, 6);
	for (int i = 0; i < 6; i++)
		tr_mp_uint(b, a[i]);
}

/* SYSCALL_ENTRY for a task whose exit comes later. */
void tr_emit_entry(struct tr_loop *L, struct tr_task *t)
{
	struct tr_buf *b = &L->out;

	if (tr_rec_room(L, 200 + t->mem.len + t->stk_len) < 0) {
		tr_rec_error(L, t, E2BIG, "record too large for a frame");
		t->mem_n = 0;
		t->mem.len = 0;
		t->stk_n = 0; /* -k: the frames go too */
		t->stk_len = 0;
	}
	tr_rec_head(L, TR_REC_SYSCALL_ENTRY, 10, t, t->ts_entry);
	tr_mp_uint(b, t->pers);
	tr_mp_uint(b, t->nr);
	tr_args(b, t->args);
	tr_mp_array(b, t->mem_n);
	tr_mp_raw(b, t->mem.p, t->mem.len);
	tr_mp_uint(b, t->flags & T_SECCOMP ? TR_SF_SECCOMP : 0);
	tr_rec_end(L, t);
	t->flags |= T_SPLIT;
	tr_pending_del(t);
	L->st->splits++;
}

/* Before writing a record for task `self`, announce every other task that
 * sits between entry and exit: its call is now interleaved. */
void tr_split_others(struct tr_loop *L, struct tr_task *self)
{
	struct tr_task *p, *n;

	for (p = L->pending.pnext; p != &L->pending; p = n) {
		n = p->pnext;
		if (p != self)
			tr_emit_entry(L, p);
	}
}

/* The whole call (entry data from the task, exit data passed in). */
void tr_emit_call(struct tr_loop *L, struct tr_task *t, int have_exit, int64_t ret, int is_error,
		  int64_t dur, const struct tr_buf *xmem, unsigned int xn, int64_t cpu, unsigned int flags)
{
	struct tr_buf *b = &L->out;
	int split = t->flags & T_SPLIT;
	size_t need = 200 + (split ? 0 : t->mem.len + t->stk_len) + (xmem ? xmem->len : 0);

	tr_split_others(L, t);
	if (tr_rec_room(L, need) < 0) {
		tr_rec_error(L, t, E2BIG, "record too large for a frame");
		xn = 0;
		xmem = NULL;
		t->stk_n = 0; /* -k: the frames go too */
		t->stk_len = 0;
		if (!split) {
			t->mem_n = 0;
			t->mem.len = 0;
		}
	}
	if (t->flags & T_SECCOMP)
		flags |= TR_SF_SECCOMP;
	if (split) {
		tr_rec_head(L, TR_REC_SYSCALL_EXIT, 13, t, tr_now(CLOCK_REALTIME));
		tr_mp_uint(b, t->pers);
		tr_mp_uint(b, t->nr);
	} else {
		tr_rec_head(L, TR_REC_SYSCALL, 14, t, t->ts_entry);
		tr_mp_uint(b, t->pers);
		tr_mp_uint(b, t->nr);
		tr_args(b, t->args);
	}
	if (have_exit) {
		if ((flags & TR_SF_INJECTED) && !is_error && ret < 0)
			tr_mp_uint(b, (uint64_t)ret); /* tamper.c: an injected retval= is unsigned */
		else
			tr_mp_int(b, ret);
		tr_mp_bool(b, is_error);
		tr_mp_uint(b, dur);
	} else {
		tr_mp_nil(b);
		tr_mp_bool(b, 0);
		tr_mp_nil(b);
	}
	if (split) {
		tr_mp_array(b, xn);
	} else {
		tr_mp_array(b, t->mem_n + xn);
		tr_mp_raw(b, t->mem.p, t->mem.len);
	}
	if (xn)
		tr_mp_raw(b, xmem->p, xmem->len);
	if (cpu >= 0)
		tr_mp_uint(b, cpu);
	else
		tr_mp_nil(b);
	tr_mp_uint(b, flags);
	tr_rec_end(L, t);
	t->flags &= ~(T_INSYS | T_WANT_EXIT | T_SPLIT | T_SECCOMP);
	t->mem_n = 0;
	t->mem.len = 0;
	/* a large call's buffer is not kept for every later one of the task */
	if (t->mem.cap > TR_MEM_KEEP) {
		free(t->mem.p);
		t->mem.p = NULL;
		t->mem.cap = 0;
	}
	tr_pending_del(t);
}

/* A small record for a task (EXEC, NEWTASK, EXIT, ...): head + ints. */
void tr_emit_simple(struct tr_loop *L, int type, struct tr_task *t, int n, int64_t a, int64_t b2)
{
	tr_split_others(L, t);
	tr_rec_room(L, 128);
	tr_rec_head(L, type, 5 + n, t, tr_now(CLOCK_REALTIME));
	if (n >= 1)
		tr_mp_int(&L->out, a);
	if (n >= 2) {
		if (type == TR_REC_KILLED)
			tr_mp_bool(&L->out, (int)b2);
		else
			tr_mp_int(&L->out, b2);
	}
	tr_rec_end(L, t);
}
