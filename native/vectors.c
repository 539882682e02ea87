// SPDX-License-Identifier: MIT
/* ------------------------------------------------------------------------
 * Golden vectors: one frame of every record type, written by the loop's own
 * emitters with fixed times and ids (tests/vectors/records_all.bin).
 * ---------------------------------------------------------------------- */

#include "tr_internal.h"

static struct tr_task *tr_fake_task(struct tr_loop *L, int tid, int tgid)
{
	struct tr_task *t = calloc(1, sizeof(*t));

	t->tid = t->xtid = t->ptid = tid;
	t->tgid = t->xtgid = tgid;
	t->sched_fd = t->mem_fd = t->fd_dir = -1;
	tr_hash_insert(L, t);
	L->ntasks++;
	return t;
}

static void tr_fake_entry(struct tr_loop *L, struct tr_task *t, int pers, uint32_t nr, int64_t ts)
{
	for (int i = 0; i < 6; i++)
		t->args[i] = (uint64_t)(i + 1) << (i * 8);
	t->pers = pers;
	t->nr = nr;
	t->ts_entry = ts;
	t->flags = T_INSYS | T_WANT_EXIT | T_SECCOMP;
	t->mem.len = 0;
	t->mem_n = 0;
}

long tr_selftest_frame(unsigned char *dst, size_t cap)
{
	static const char siginfo_fill[] = "siginfo";
	struct tr_config cfg = { 0 };
	struct tr_stats st;
	struct tr_loop *L = calloc(1, sizeof(*L));
	struct tr_task *a, *b, *ns;
	unsigned char si[128];
	struct tr_buf x = { 0 };
	long n;

	cfg.session = 7;
	cfg.batch_bytes = TR_FRAME_MAX_PAYLOAD;
	cfg.out_fd = -1;
	memset(&st, 0, sizeof(st));
	L->cfg = &cfg;
	L->st = &st;
	L->hsize = 16;
	L->hash = calloc(L->hsize, sizeof(*L->hash));
	L->pending.pnext = L->pending.pprev = &L->pending;
	L->out.cap = TR_FRAME_HEADER_SIZE + TR_FRAME_MAX_PAYLOAD;
	L->out.p = malloc(L->out.cap);
	L->seq = 100;
	L->sigfd = L->tfd = -1;
	tr_clock_fixed = 1700000000123456789LL;
	/* a dropped batch before this one: the LOST record opens the next */
	L->lost_unreported = 5;
	tr_begin_batch(L);

	a = tr_fake_task(L, 1000, 1000);
	b = tr_fake_task(L, 1001, 1000);
	ns = tr_fake_task(L, 2000, 2000);
	ns->ns_tid = 1;
	ns->ns_tgid = 1;

	/* a whole call with an entry string: openat(AT_FDCWD, "/etc/x") = 3 */
	tr_fake_entry(L, a, TR_PERS_X86_64, 257, tr_clock_fixed - 5000);
	tr_buf_reserve(&a->mem, 64);
	tr_mp_array(&a->mem, 3);
	tr_mp_uint(&a->mem, 0);
	tr_mp_uint(&a->mem, 1);
	tr_mp_bin(&a->mem, "/etc/x", 7);
	a->mem_n = 1;
	tr_emit_call(L, a, 1, 3, 0, 1234, NULL, 0, 777, 0);

	/* read() interleaved by another task's record: entry, exec, exit */
	tr_fake_entry(L, a, TR_PERS_X86_64, 0, tr_clock_fixed - 4000);
	tr_pending_add(L, a);
	tr_emit_simple(L, TR_REC_EXEC, b, 1, 1001, 0);
	tr_buf_reserve(&x, 64);
	tr_mp_array(&x, 3);
	tr_mp_uint(&x, 1);
	tr_mp_uint(&x, 1);
	tr_mp_bin(&x, "abc", 3);
	tr_emit_call(L, a, 1, 3, 0, 99, &x, 1, -1, 0);

	/* a failed call, an i386 call without an exit stop, a bad pointer */
	tr_fake_entry(L, b, TR_PERS_I386, 20, tr_clock_fixed);
	tr_emit_call(L, b, 0, 0, 0, 0, NULL, 0, -1, TR_SF_NO_EXIT);
	tr_fake_entry(L, b, TR_PERS_X86_64, 2, tr_clock_fixed);
	b->args[0] = UINT64_MAX;
	tr_buf_reserve(&b->mem, 64);
	tr_mp_array(&b->mem, 3);
	tr_mp_uint(&b->mem, 0);
	tr_mp_uint(&b->mem, 0);
	tr_mp_int(&b->mem, -EFAULT);
	b->mem_n = 1;
	tr_emit_call(L, b, 1, -EFAULT, 1, 10, NULL, 0, -1, 0);

	/* exit_group that never returned (task in another pid namespace) */
	tr_fake_entry(L, ns, TR_PERS_X86_64, 231, tr_clock_fixed);
	tr_emit_call(L, ns, 0, 0, 0, 0, NULL, 0, -1, TR_SF_VANISHED);

	tr_emit_simple(L, TR_REC_NEWTASK, a, 2, 1002, TR_NEW_CLONE);
	for (int i = 0; i < 128; i++)
		si[i] = (unsigned char)siginfo_fill[i % 7];
	tr_rec_head(L, TR_REC_SIGNAL, 7, a, tr_now(CLOCK_REALTIME));
	tr_mp_uint(&L->out, 10);
	tr_mp_bin(&L->out, si, sizeof(si));
	tr_rec_end(L, a);
	tr_emit_simple(L, TR_REC_STOPPED, a, 1, SIGSTOP, 0);
	tr_emit_simple(L, TR_REC_ATTACH, ns, 0, 0, 0);
	tr_emit_simple(L, TR_REC_DETACH, ns, 0, 0, 0);
	tr_emit_simple(L, TR_REC_EXIT, b, 1, 0, 0);
	tr_emit_simple(L, TR_REC_KILLED, a, 2, SIGSEGV, 1);
	tr_rec_error(L, NULL, ESRCH, "no such task");
	tr_frame_header(L);
	n = L->out.len <= cap ? (long)L->out.len : -ENOSPC;
	if (n > 0)
		memcpy(dst, L->out.p, n);
	free(x.p);
	tr_loop_free(L);
	free(L);
	tr_clock_fixed = 0;
	return n;
}
