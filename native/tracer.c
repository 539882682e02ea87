// SPDX-License-Identifier: MIT
/*
 * tracerd native loop: seize tracees, take seccomp (or plain syscall) stops,
 * read each call with PTRACE_GET_SYSCALL_INFO, fetch memory per the fetch
 * plan, encode msgpack records into frames and write them out.
 *
 * The loop knows nothing of syscall names: the fetch plan (tracerd._wire)
 * says what to read, and the 16 data bits of SECCOMP_RET_TRACE say whether
 * to stop at the exit too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/seccomp.h>

#include "tracer.h"

/* Defined here: the installed headers mix badly (sys/ptrace.h vs
 * linux/ptrace.h) and predate some of these. */
#define TR_PTRACE_GET_SYSCALL_INFO 0x420e
#define TR_PTRACE_SEIZE 0x4206
#define TR_PTRACE_INTERRUPT 0x4207
#define TR_PTRACE_LISTEN 0x4208
#define TR_PTRACE_GETEVENTMSG 0x4201
#define TR_PTRACE_GETSIGINFO 0x4202
#define TR_O_TRACESYSGOOD 0x01
#define TR_O_TRACEFORK 0x02
#define TR_O_TRACEVFORK 0x04
#define TR_O_TRACECLONE 0x08
#define TR_O_TRACEEXEC 0x10
#define TR_O_TRACEEXIT 0x40
#define TR_O_TRACESECCOMP 0x80
#define TR_O_EXITKILL 0x100000
#define TR_EV_FORK 1
#define TR_EV_VFORK 2
#define TR_EV_CLONE 3
#define TR_EV_EXEC 4
#define TR_EV_VFORK_DONE 5
#define TR_EV_EXIT 6
#define TR_EV_SECCOMP 7
#define TR_EV_STOP 128
#define TR_SI_NONE 0
#define TR_SI_ENTRY 1
#define TR_SI_EXIT 2
#define TR_SI_SECCOMP 3
#define TR_AUDIT_ARCH_X86_64 0xC000003Eu
#define TR_AUDIT_ARCH_I386 0x40000003u
#define TR_ORIG_RAX_OFF (15 * 8)

struct tr_sysinfo {
	uint8_t op;
	uint8_t pad[3];
	uint32_t arch;
	uint64_t ip;
	uint64_t sp;
	union {
		struct {
			uint64_t nr;
			uint64_t args[6];
		} entry;
		struct {
			int64_t rval;
			uint8_t is_error;
		} exit;
		struct {
			uint64_t nr;
			uint64_t args[6];
			uint32_t ret_data;
		} seccomp;
	};
};

/* ------------------------------------------------------------------------
 * msgpack writer. Hand-written because the records are built in the stop
 * handler, between a ptrace resume and the next wait, where a library's
 * allocation and callback layers would cost more than the encoding itself;
 * we need only nine encoders and no decoder (the Python side decodes with
 * msgpack). Round-trip tested against msgpack with hypothesis.
 * ---------------------------------------------------------------------- */

static inline int tr_room(struct tr_buf *b, size_t n)
{
	if (b->overflow || b->cap - b->len < n) {
		b->overflow = 1;
		return 0;
	}
	return 1;
}

static inline void tr_put8(struct tr_buf *b, uint8_t v)
{
	if (tr_room(b, 1))
		b->p[b->len++] = v;
}

static inline void tr_putbe(struct tr_buf *b, uint8_t tag, uint64_t v, int n)
{
	if (!tr_room(b, 1 + n))
		return;
	b->p[b->len++] = tag;
	for (int i = n - 1; i >= 0; i--)
		b->p[b->len++] = (uint8_t)(v >> (8 * i));
}

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

static void tr_mp_raw(struct tr_buf *b, const void *p, size_t n)
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

static int tr_buf_reserve(struct tr_buf *b, size_t n)
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

/* ------------------------------------------------------------------------
 * The fetch plan.
 * ---------------------------------------------------------------------- */

struct tr_op {
	uint8_t phase, kind, arg, len_src;
	uint32_t size;
};

struct tr_pentry {
	uint8_t pers, nops;
	uint16_t eflags;
	uint32_t nr;
	struct tr_op *ops;
};

#define TR_NR_DIRECT 1024

struct tr_plan {
	uint32_t strsize, flags;
	int count;
	struct tr_pentry *ent;
	struct tr_op *ops;
	int32_t idx[3][TR_NR_DIRECT];
};

static uint16_t tr_le16(const unsigned char *p)
{
	return p[0] | (p[1] << 8);
}

static uint32_t tr_le32(const unsigned char *p)
{
	return p[0] | (p[1] << 8) | (p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void tr_plan_free(struct tr_plan *pl)
{
	free(pl->ent);
	free(pl->ops);
	memset(pl, 0, sizeof(*pl));
}

static int tr_plan_parse(struct tr_plan *pl, const unsigned char *p, size_t len)
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
	if (off != len)
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
			if (op->phase > 1 || op->kind < TR_OP_CSTR || op->kind > TR_OP_MMSGHDR ||
			    (op->kind != TR_OP_STACK && op->arg > 5)) {
				tr_plan_free(pl);
				return -EINVAL;
			}
		}
		if (e->nr < TR_NR_DIRECT)
			pl->idx[e->pers][e->nr] = i;
	}
	return count;
}

static struct tr_pentry *tr_plan_lookup(struct tr_plan *pl, int pers, uint32_t nr)
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

/* ------------------------------------------------------------------------
 * Tasks: a hash of tid -> task, chained, doubled as it fills.
 * ---------------------------------------------------------------------- */

enum {
	T_INSYS = 0x1, /* between entry and exit */
	T_WANT_EXIT = 0x2, /* resume with PTRACE_SYSCALL to catch the exit */
	T_SPLIT = 0x4, /* SYSCALL_ENTRY already written */
	T_IGNORE = 0x8, /* attach mode: a call the plan does not select */
	T_SECCOMP = 0x10, /* entry came from a seccomp stop */
	T_DETACHING = 0x20,
	T_ANNOUNCED = 0x40, /* NEWTASK written (or an initial task) */
	T_STARTED = 0x80, /* its first stop was seen */
	T_HELD = 0x100, /* injection: kept in its first stop (held_status) */
};

struct tr_task {
	int tid, tgid;
	int ns_tid, ns_tgid; /* 0 when in our pid namespace */
	uint32_t flags;
	int held_status;
	uint8_t pers;
	uint16_t eflags;
	uint32_t nr;
	uint64_t args[6];
	uint64_t sp; /* the stack pointer at entry (for STACK ops) */
	int64_t ts_entry, mono_entry;
	uint64_t cpu_entry;
	int has_cpu;
	int sched_fd, mem_fd;
	struct tr_buf mem; /* entry-phase mem entries, encoded */
	unsigned int mem_n;
	struct tr_task *hnext;
	struct tr_task *pnext, *pprev; /* pending (unsplit) list */
};

struct tr_loop {
	const struct tr_config *cfg;
	struct tr_stats *st;
	struct tr_plan plan;
	struct tr_task **hash;
	unsigned int hsize, ntasks;
	struct tr_task pending; /* list head */
	/* tids that ran and died before their parent's fork/clone event came:
	 * that event must not bring them back */
	int *ghosts;
	unsigned int nghosts, ghostcap;
	int attach;
	int plain; /* attach without a filter: syscall stops, filtered here */
	int injected; /* attach with the filter injected: seccomp stops */
	int passthru; /* injected and the consumer gone: resume, record nothing */
	int sigfd, tfd;
	struct tr_buf out; /* frame: header + records */
	uint64_t seq, batch_first;
	uint32_t batch_count;
	uint64_t lost_unreported;
	uint64_t batch_lost; /* the count the batch's LOST record carries */
	int consumer_gone;
	int final; /* the last flush: wait for room even in drop mode */
	unsigned char *tail;
	size_t tail_len, tail_off;
	int ending; /* KILL or DETACH in progress */
	struct tr_buf scratch; /* exit-phase mem */
	unsigned char *rd;
	size_t rdcap;
	int64_t flush_ns;
	int64_t linger_ns, batch_t0;
	char *err;
	size_t errlen;
};

static int64_t tr_clock_fixed; /* tr_selftest_frame: deterministic times */

static int64_t tr_now(clockid_t c)
{
	struct timespec ts;

	if (tr_clock_fixed)
		return tr_clock_fixed;

	clock_gettime(c, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static unsigned int tr_hash(struct tr_loop *L, int tid)
{
	return ((uint32_t)tid * 2654435761u) & (L->hsize - 1);
}

static struct tr_task *tr_find(struct tr_loop *L, int tid)
{
	struct tr_task *t = L->hash[tr_hash(L, tid)];

	while (t && t->tid != tid)
		t = t->hnext;
	return t;
}

static void tr_hash_insert(struct tr_loop *L, struct tr_task *t)
{
	unsigned int h = tr_hash(L, t->tid);

	t->hnext = L->hash[h];
	L->hash[h] = t;
}

static void tr_hash_remove(struct tr_loop *L, struct tr_task *t)
{
	struct tr_task **pp = &L->hash[tr_hash(L, t->tid)];

	while (*pp && *pp != t)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = t->hnext;
}

static void tr_hash_grow(struct tr_loop *L)
{
	unsigned int old = L->hsize;
	struct tr_task **oh = L->hash, **nh;

	nh = calloc(old * 2, sizeof(*nh));
	if (!nh)
		return; /* keep the chains longer */
	L->hash = nh;
	L->hsize = old * 2;
	for (unsigned int i = 0; i < old; i++) {
		struct tr_task *t = oh[i], *n;

		for (; t; t = n) {
			n = t->hnext;
			tr_hash_insert(L, t);
		}
	}
	free(oh);
}

/* The last of the ids on an NSpid:/NStgid: line (the innermost pid
 * namespace's), or 0 when the line holds one id (no namespace of its own). */
static int tr_inner_id(const char *q)
{
	const char *e = strchr(q, '\n'), *last = NULL;
	int cnt = 0;

	while (!e || q < e) {
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q < '0' || *q > '9')
			break;
		last = q;
		cnt++;
		while (*q >= '0' && *q <= '9')
			q++;
	}
	return cnt > 1 ? atoi(last) : 0;
}

/* Tgid and the innermost pid-namespace ids from /proc/TID/status. */
static void tr_read_status(struct tr_task *t)
{
	char path[64], buf[2048], *s;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/status", t->tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = 0;
	s = strstr(buf, "\nTgid:");
	if (s)
		t->tgid = atoi(s + 6);
	s = strstr(buf, "\nNStgid:");
	if (s && (n = tr_inner_id(s + 8)))
		t->ns_tgid = n;
	s = strstr(buf, "\nNSpid:");
	if (s && (n = tr_inner_id(s + 7)))
		t->ns_tid = n;
}

static struct tr_task *tr_task_new(struct tr_loop *L, int tid, int tgid)
{
	struct tr_task *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->tid = tid;
	t->tgid = tgid;
	t->sched_fd = -1;
	t->mem_fd = -1;
	tr_read_status(t);
	if (!t->tgid)
		t->tgid = tid;
	if (L->ending && !L->passthru) {
		/* appeared while we end: follow the others out */
		if (L->attach)
			t->flags |= T_DETACHING;
		else
			kill(tid, SIGKILL);
	}
	if (L->ntasks + 1 > L->hsize)
		tr_hash_grow(L);
	tr_hash_insert(L, t);
	L->ntasks++;
	L->st->tasks_total++;
	if (L->ntasks > L->st->tasks_max)
		L->st->tasks_max = L->ntasks;
	return t;
}

static void tr_pending_del(struct tr_task *t)
{
	if (t->pnext) {
		t->pnext->pprev = t->pprev;
		t->pprev->pnext = t->pnext;
		t->pnext = t->pprev = NULL;
	}
}

static void tr_pending_add(struct tr_loop *L, struct tr_task *t)
{
	struct tr_task *h = &L->pending;

	t->pprev = h->pprev;
	t->pnext = h;
	h->pprev->pnext = t;
	h->pprev = t;
}

static void tr_task_free(struct tr_loop *L, struct tr_task *t)
{
	tr_pending_del(t);
	tr_hash_remove(L, t);
	if (t->sched_fd >= 0)
		close(t->sched_fd);
	if (t->mem_fd >= 0)
		close(t->mem_fd);
	free(t->mem.p);
	free(t);
	L->ntasks--;
}

/* ------------------------------------------------------------------------
 * Frames and records.
 * ---------------------------------------------------------------------- */

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
static int tr_push_tail(struct tr_loop *L, int block)
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

static void tr_begin_batch(struct tr_loop *L);

static void tr_frame_header(struct tr_loop *L)
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

static void tr_flush(struct tr_loop *L)
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

static void tr_rec_head(struct tr_loop *L, int type, unsigned int nfields, struct tr_task *t, int64_t ts);

static void tr_begin_batch(struct tr_loop *L)
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

/* Write a record's array header and its five common fields. nfields counts
 * the type's fields (tracerd._wire.FIELDS); the ext map is added when the
 * task lives in another pid namespace (tr_rec_end writes it). */
static void tr_rec_head(struct tr_loop *L, int type, unsigned int nfields, struct tr_task *t, int64_t ts)
{
	struct tr_buf *b = &L->out;
	int has_ext = t && (t->ns_tid || t->ns_tgid);

	if (!L->batch_count) {
		L->batch_first = L->seq;
		if (L->linger_ns)
			L->batch_t0 = tr_now(CLOCK_MONOTONIC);
	}
	tr_mp_array(b, nfields + has_ext);
	tr_put8(b, (uint8_t)type);
	tr_mp_uint(b, L->seq++);
	tr_mp_uint(b, (uint64_t)ts);
	tr_mp_uint(b, t ? (uint64_t)t->tid : 0);
	tr_mp_uint(b, t ? (uint64_t)t->tgid : 0);
	L->batch_count++;
	L->st->records++;
}

static void tr_rec_end(struct tr_loop *L, struct tr_task *t)
{
	struct tr_buf *b = &L->out;

	if (t && (t->ns_tid || t->ns_tgid)) {
		tr_mp_map(b, 1);
		tr_mp_str(b, "nspid", 5);
		tr_mp_array(b, 2);
		tr_mp_uint(b, t->ns_tid ? t->ns_tid : t->tid);
		tr_mp_uint(b, t->ns_tgid ? t->ns_tgid : t->tgid);
	}
	if (L->out.len - TR_FRAME_HEADER_SIZE >= L->cfg->batch_bytes)
		tr_flush(L);
}

/* Records may be large (argv, buffers): make room before writing one so
 * the writer never overflows; a record that cannot fit in a frame is
 * replaced by an ERROR record. */
static int tr_rec_room(struct tr_loop *L, size_t need)
{
	if (L->out.len + need > L->out.cap) {
		tr_flush(L);
		if (L->out.len + need > L->out.cap)
			return -1;
	}
	return 0;
}

static void tr_rec_error(struct tr_loop *L, struct tr_task *t, int err, const char *msg)
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
static void tr_emit_entry(struct tr_loop *L, struct tr_task *t)
{
	struct tr_buf *b = &L->out;

	if (tr_rec_room(L, 200 + t->mem.len) < 0) {
		tr_rec_error(L, t, E2BIG, "record too large for a frame");
		t->mem_n = 0;
		t->mem.len = 0;
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
static inline void tr_split_others(struct tr_loop *L, struct tr_task *self)
{
	struct tr_task *p, *n;

	for (p = L->pending.pnext; p != &L->pending; p = n) {
		n = p->pnext;
		if (p != self)
			tr_emit_entry(L, p);
	}
}

/* The whole call (entry data from the task, exit data passed in). */
static void tr_emit_call(struct tr_loop *L, struct tr_task *t, int have_exit, int64_t ret, int is_error,
			 int64_t dur, const struct tr_buf *xmem, unsigned int xn, int64_t cpu, unsigned int flags)
{
	struct tr_buf *b = &L->out;
	int split = t->flags & T_SPLIT;
	size_t need = 200 + (split ? 0 : t->mem.len) + (xmem ? xmem->len : 0);

	tr_split_others(L, t);
	if (tr_rec_room(L, need) < 0) {
		tr_rec_error(L, t, E2BIG, "record too large for a frame");
		xn = 0;
		xmem = NULL;
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
	tr_pending_del(t);
}

/* A small record for a task (EXEC, NEWTASK, EXIT, ...): head + ints. */
static void tr_emit_simple(struct tr_loop *L, int type, struct tr_task *t, int n, int64_t a, int64_t b2)
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

/* ------------------------------------------------------------------------
 * Tracee memory.
 * ---------------------------------------------------------------------- */

/* Read len bytes at addr: bytes read (possibly short) or -errno. */
static ssize_t tr_peek(struct tr_task *t, void *dst, uint64_t addr, size_t len)
{
	struct iovec l = { dst, len }, r = { (void *)(uintptr_t)addr, len };
	ssize_t n;

	if (!len)
		return 0;
	if (!addr)
		return -EFAULT;
	n = process_vm_readv(t->tid, &l, 1, &r, 1, 0);
	if (n >= 0)
		return n;
	if (errno == EFAULT || errno == ESRCH)
		return -errno;
	/* ENOSYS (no CONFIG_CROSS_MEMORY_ATTACH), EPERM: /proc/PID/mem */
	if (t->mem_fd < 0) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/mem", t->tid);
		t->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (t->mem_fd < 0)
			return -errno;
	}
	n = pread(t->mem_fd, dst, len, (off_t)addr);
	if (n < 0)
		return errno == EIO ? -EFAULT : -errno;
	if (n == 0)
		return -EFAULT;
	return n;
}

static unsigned char *tr_rdbuf(struct tr_loop *L, size_t n)
{
	if (n > L->rdcap) {
		unsigned char *p = realloc(L->rd, n);

		if (!p)
			return NULL;
		L->rd = p;
		L->rdcap = n;
	}
	return L->rd;
}

#define TR_PAGE 4096
#define TR_FIRST_READ 256

/* A C string of at most `limit` characters: bin with its NUL when the NUL
 * was found, without when truncated; -errno when nothing could be read.
 * Reads stop at page ends so a string near unmapped memory still reads. */
static void tr_fetch_cstr(struct tr_loop *L, struct tr_task *t, struct tr_buf *b, uint64_t addr, size_t limit)
{
	size_t want = limit + 1, off = 0;
	unsigned char *p = tr_rdbuf(L, want);
	ssize_t n;

	if (!p) {
		tr_mp_int(b, -ENOMEM);
		return;
	}
	while (off < want) {
		size_t chunk = TR_PAGE - ((addr + off) & (TR_PAGE - 1));
		unsigned char *z;

		/* most strings are short: a small first read spares copying
		 * the rest of the page */
		if (!off && chunk > TR_FIRST_READ)
			chunk = TR_FIRST_READ;
		if (chunk > want - off)
			chunk = want - off;
		n = tr_peek(t, p + off, addr + off, chunk);
		if (n <= 0) {
			if (!off) {
				tr_mp_int(b, n < 0 ? n : -EFAULT);
				return;
			}
			break;
		}
		z = memchr(p + off, 0, n);
		if (z) {
			tr_mp_bin(b, p, z - p + 1);
			return;
		}
		off += n;
		if ((size_t)n < chunk)
			break;
	}
	tr_mp_bin(b, p, off > limit ? limit : off);
}

/* `len` bytes at addr as bin; `whole`: all or nothing (a struct: a short
 * read is -EFAULT), else what could be read (a buffer may end at the end of
 * a mapping); -errno when nothing could be read. */
static void tr_fetch_mem(struct tr_loop *L, struct tr_task *t, struct tr_buf *b, uint64_t addr, size_t len, int whole)
{
	unsigned char *p;
	ssize_t n;

	if (!len && !whole) {
		tr_mp_bin(b, "", 0);
		return;
	}
	p = tr_rdbuf(L, len ? len : 1);
	if (!p) {
		tr_mp_int(b, -ENOMEM);
		return;
	}
	n = tr_peek(t, p, addr, len);
	if (n < 0)
		tr_mp_int(b, n);
	else if (whole ? (size_t)n != len : n == 0)
		tr_mp_int(b, -EFAULT);
	else
		tr_mp_bin(b, p, n);
}

static void tr_fetch_buf(struct tr_loop *L, struct tr_task *t, struct tr_buf *b, uint64_t addr, size_t len)
{
	tr_fetch_mem(L, t, b, addr, len, 0);
}

static void tr_fetch_struct(struct tr_loop *L, struct tr_task *t, struct tr_buf *b, uint64_t addr, size_t len)
{
	tr_fetch_mem(L, t, b, addr, len, 1);
}

/* [total, s0, s1, ...]: pointers counted up to the NULL (capped at
 * STRARR_COUNT_MAX), the first `maxel` strings fetched. */
static void tr_fetch_strarr(struct tr_loop *L, struct tr_task *t, struct tr_buf *b, uint64_t addr,
			    size_t maxel, size_t strsize, int psize)
{
	uint64_t *keep = NULL;
	unsigned char chunk[TR_PAGE];
	size_t total = 0, nkeep = 0;
	int done = 0, first = 1;

	keep = malloc(sizeof(*keep) * (maxel ? maxel : 1));
	if (!keep) {
		tr_mp_int(b, -ENOMEM);
		return;
	}
	while (!done && total < TR_STRARR_COUNT_MAX) {
		size_t room = TR_PAGE - (addr & (TR_PAGE - 1));
		ssize_t n;

		if (first && room > 2 * TR_FIRST_READ)
			room = 2 * TR_FIRST_READ;
		if (room < (size_t)psize)
			room = psize;
		room -= room % psize;
		n = tr_peek(t, chunk, addr, room);
		if (n < psize) {
			if (first) {
				free(keep);
				tr_mp_int(b, n < 0 ? n : -EFAULT);
				return;
			}
			break;
		}
		first = 0;
		for (ssize_t i = 0; i + psize <= n; i += psize) {
			uint64_t v = 0;

			memcpy(&v, chunk + i, psize);
			if (!v) {
				done = 1;
				break;
			}
			if (nkeep < maxel)
				keep[nkeep++] = v;
			if (++total >= TR_STRARR_COUNT_MAX)
				break;
		}
		addr += n;
	}
	tr_mp_array(b, 1 + nkeep);
	tr_mp_uint(b, total);
	for (size_t i = 0; i < nkeep; i++)
		tr_fetch_cstr(L, t, b, keep[i], strsize);
	free(keep);
}

/* `cnt` elements of `esz` bytes at addr, in a buffer to free; NULL when
 * they cannot all be read, after writing the failure (-errno) as the value */
static unsigned char *tr_peek_array(struct tr_task *t, struct tr_buf *b, uint64_t addr, size_t cnt, size_t esz)
{
	unsigned char *v = malloc(cnt * esz + 1);
	ssize_t r;

	if (!v) {
		tr_mp_int(b, -ENOMEM);
		return NULL;
	}
	r = cnt ? tr_peek(t, v, addr, cnt * esz) : 0;
	if (r < 0 || (size_t)r < cnt * esz) {
		free(v);
		tr_mp_int(b, r < 0 ? r : -EFAULT);
		return NULL;
	}
	return v;
}

/* One [base, len, data] per iovec, as strace prints them: each element's
 * data up to the string size, out of `remaining` bytes in all (the return
 * value at exit; unbounded at entry), at most `cap` bytes in all. */
static void tr_fetch_iovec(struct tr_loop *L, struct tr_task *t, struct tr_buf *b, uint64_t addr, size_t cnt,
			   size_t remaining, size_t strsize, size_t cap, int psize)
{
	size_t isz = 2 * psize, n;
	unsigned char *v = tr_peek_array(t, b, addr, cnt, isz);

	if (!v)
		return;
	tr_mp_array(b, cnt);
	for (size_t i = 0; i < cnt; i++) {
		uint64_t base = 0, len = 0;

		memcpy(&base, v + i * isz, psize);
		memcpy(&len, v + i * isz + psize, psize);
		tr_mp_array(b, 3);
		tr_mp_uint(b, base);
		tr_mp_uint(b, len);
		n = len < remaining ? len : remaining;
		remaining -= n;
		if (n > strsize)
			n = strsize;
		if (n > cap)
			n = cap;
		cap -= n;
		tr_fetch_buf(L, t, b, base, n);
	}
	free(v);
}

/* [hdr, name, iov, control] for a struct msghdr whose `hsz` header bytes
 * (56, or 28 in the compat layout of i386 and x32; an mmsghdr's 64 / 32
 * with msg_len) are in h: the header, then what its pointers point to; the
 * one kind of op that follows pointers found in fetched memory. `maxel`
 * iovecs at most, their data as for IOVEC, `cap` bytes of it in all. */
static void tr_emit_msghdr(struct tr_loop *L, struct tr_task *t, struct tr_buf *b, const unsigned char *h,
			   size_t hsz, size_t maxel, size_t remaining, size_t strsize, size_t cap, int psize)
{
	uint64_t name = 0, iov = 0, iovlen = 0, ctl = 0, ctllen = 0;
	uint32_t namelen = 0, w[6];

	if (psize == 8) {
		memcpy(&name, h, 8);
		memcpy(&namelen, h + 8, 4);
		memcpy(&iov, h + 16, 8);
		memcpy(&iovlen, h + 24, 8);
		memcpy(&ctl, h + 32, 8);
		memcpy(&ctllen, h + 40, 8);
	} else {
		memcpy(w, h, sizeof(w));
		name = w[0];
		namelen = w[1];
		iov = w[2];
		iovlen = w[3];
		ctl = w[4];
		ctllen = w[5];
	}
	tr_mp_array(b, 4);
	tr_mp_bin(b, h, hsz);
	if (name && namelen)
		tr_fetch_buf(L, t, b, name, namelen < TR_MSG_NAME_MAX ? namelen : TR_MSG_NAME_MAX);
	else
		tr_mp_nil(b);
	if (iov)
		tr_fetch_iovec(L, t, b, iov, iovlen < maxel ? iovlen : maxel, remaining, strsize, cap, psize);
	else
		tr_mp_nil(b);
	if (ctl && ctllen)
		tr_fetch_buf(L, t, b, ctl, ctllen < TR_MSG_CONTROL_MAX ? ctllen : TR_MSG_CONTROL_MAX);
	else
		tr_mp_nil(b);
}

static void tr_fetch_msghdr(struct tr_loop *L, struct tr_task *t, struct tr_buf *b, uint64_t addr,
			    size_t maxel, size_t remaining, size_t strsize, int psize)
{
	size_t hsz = psize == 8 ? 56 : 28;
	unsigned char h[56];
	ssize_t n = tr_peek(t, h, addr, hsz);

	if (n < 0 || (size_t)n != hsz) {
		tr_mp_int(b, n < 0 ? n : -EFAULT);
		return;
	}
	tr_emit_msghdr(L, t, b, h, hsz, maxel, remaining, strsize, TR_IOV_DATA_MAX, psize);
}

/* An array of `cnt` struct mmsghdr (sendmmsg, recvmmsg at exit: the first
 * `ret` were sent or filled): one [hdr, name, iov, control] each, the
 * header with its msg_len, which bounds that message's iovec data; the
 * messages share TR_IOV_DATA_MAX of data. */
static void tr_fetch_mmsghdr(struct tr_loop *L, struct tr_task *t, struct tr_buf *b, uint64_t addr,
			     size_t cnt, size_t maxel, size_t strsize, int psize)
{
	size_t esz = psize == 8 ? 64 : 32, hsz = psize == 8 ? 56 : 28;
	unsigned char *v = tr_peek_array(t, b, addr, cnt, esz);

	if (!v)
		return;
	tr_mp_array(b, cnt);
	for (size_t i = 0; i < cnt; i++) {
		uint32_t len;

		memcpy(&len, v + i * esz + hsz, 4);
		tr_emit_msghdr(L, t, b, v + i * esz, esz, maxel, len, strsize, TR_IOV_DATA_MAX / cnt, psize);
	}
	free(v);
}

/* Run the ops of one phase; returns how many mem entries were written. */
static unsigned int tr_fetch(struct tr_loop *L, struct tr_task *t, const struct tr_pentry *pe, int phase,
			     struct tr_buf *b, int64_t ret)
{
	size_t strsize = L->plan.strsize;
	int psize = t->pers == TR_PERS_X86_64 ? 8 : 4;
	unsigned int cnt = 0;

	for (int i = 0; i < pe->nops; i++) {
		const struct tr_op *op = &pe->ops[i];
		uint64_t addr = op->kind == TR_OP_STACK ? t->sp + 8 * (uint64_t)op->arg : t->args[op->arg];
		size_t lim = op->size ? op->size : strsize, len;

		/* STRARR with LEN_FIXED: `size` is the exact element count (0:
		 * count the pointers only, as for an abbreviated environment) */
		if (op->kind == TR_OP_STRARR && op->len_src == TR_LEN_FIXED)
			lim = op->size;

		if (op->phase != phase)
			continue;
		/* the largest value an op can produce, so the writer never
		 * overflows: strings and buffers are bounded by their limits */
		len = 64 + lim;
		if (op->kind == TR_OP_STRARR)
			len = 64 + lim * (strsize + 16);
		else if (op->kind == TR_OP_IOVEC)
			len = 64 + lim * 32 + TR_IOV_DATA_MAX;
		else if (op->kind == TR_OP_MSGHDR)
			len = 128 + 56 + TR_MSG_NAME_MAX + lim * 32 + TR_IOV_DATA_MAX + TR_MSG_CONTROL_MAX;
		else if (op->kind == TR_OP_MMSGHDR) { /* lim messages of lim iovecs each */
			if (lim > TR_MMSG_MAX)
				lim = TR_MMSG_MAX;
			len = 64 + lim * (128 + 64 + TR_MSG_NAME_MAX + lim * 32 + TR_MSG_CONTROL_MAX) + TR_IOV_DATA_MAX;
		}
		if (tr_buf_reserve(b, len) < 0)
			break;
		tr_mp_array(b, 3);
		tr_put8(b, (uint8_t)phase);
		tr_put8(b, op->arg);
		switch (op->kind) {
		case TR_OP_CSTR:
			tr_fetch_cstr(L, t, b, addr, lim);
			break;
		case TR_OP_BUF:
			if (op->len_src <= 5)
				len = t->args[op->len_src];
			else if (op->len_src == TR_LEN_RET)
				len = ret > 0 ? (uint64_t)ret : 0;
			else
				len = op->size;
			if (op->len_src != TR_LEN_FIXED && len > lim)
				len = lim;
			if (t->pers != TR_PERS_X86_64)
				len &= 0xffffffffu;
			tr_fetch_buf(L, t, b, addr, len);
			break;
		case TR_OP_STRUCT:
		case TR_OP_STACK:
			tr_fetch_struct(L, t, b, addr, op->size);
			break;
		case TR_OP_STRARR:
			tr_fetch_strarr(L, t, b, addr, lim, strsize, psize);
			break;
		case TR_OP_MSGHDR:
			tr_fetch_msghdr(L, t, b, addr, lim, phase == 1 ? (ret > 0 ? (size_t)ret : 0) : SIZE_MAX,
					strsize, psize);
			break;
		case TR_OP_MMSGHDR:
			/* the first `ret` messages (sent or received), at most
			 * vlen (len_src) and lim */
			len = ret > 0 ? (size_t)ret : 0;
			if (op->len_src <= 5 && (t->args[op->len_src] & 0xffffffffu) < len)
				len = t->args[op->len_src] & 0xffffffffu;
			if (len > lim)
				len = lim;
			tr_fetch_mmsghdr(L, t, b, addr, len, lim, strsize, psize);
			break;
		case TR_OP_IOVEC:
			len = op->len_src <= 5 ? t->args[op->len_src] : lim;
			if (len > lim)
				len = lim;
			tr_fetch_iovec(L, t, b, addr, len, phase == 1 ? (ret > 0 ? (size_t)ret : 0) : SIZE_MAX,
				       strsize, TR_IOV_DATA_MAX, psize);
			break;
		}
		cnt++;
	}
	return cnt;
}

static int64_t tr_cpu(struct tr_task *t)
{
	char buf[64];
	ssize_t n;

	if (t->sched_fd < 0) {
		snprintf(buf, sizeof(buf), "/proc/%d/task/%d/schedstat", t->tgid, t->tid);
		t->sched_fd = open(buf, O_RDONLY | O_CLOEXEC);
		if (t->sched_fd < 0)
			return -1;
	}
	n = pread(t->sched_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return strtoll(buf, NULL, 10);
}

/* ------------------------------------------------------------------------
 * Stops.
 * ---------------------------------------------------------------------- */

static void tr_resume(struct tr_loop *L, struct tr_task *t, int sig)
{
	int req = (L->plain || (t->flags & T_WANT_EXIT)) ? PTRACE_SYSCALL : PTRACE_CONT;

	ptrace(req, t->tid, 0L, (long)sig);
	/* ESRCH: killed meanwhile; its death comes through wait */
}

static int tr_pers_of(uint32_t arch, uint64_t nr)
{
	if (arch == TR_AUDIT_ARCH_I386)
		return TR_PERS_I386;
	if (nr & TR_X32_SYSCALL_BIT)
		return TR_PERS_X32;
	return TR_PERS_X86_64;
}

static void tr_on_entry(struct tr_loop *L, struct tr_task *t, struct tr_sysinfo *si, int seccomp)
{
	struct tr_pentry *pe;
	uint64_t nr = seccomp ? si->seccomp.nr : si->entry.nr;
	int pers = tr_pers_of(si->arch, nr);
	uint16_t ef;

	pe = tr_plan_lookup(&L->plan, pers, (uint32_t)nr);
	if (seccomp) {
		ef = si->seccomp.ret_data & 0xffff;
	} else {
		if (!pe) {
			t->flags |= T_IGNORE;
			t->flags &= ~T_WANT_EXIT;
			tr_resume(L, t, 0);
			return;
		}
		ef = pe->eflags;
	}
	t->flags &= ~(T_IGNORE | T_SPLIT | T_SECCOMP);
	t->flags |= T_INSYS | (seccomp ? T_SECCOMP : 0);
	t->pers = pers;
	t->nr = (uint32_t)nr;
	t->eflags = ef;
	memcpy(t->args, seccomp ? si->seccomp.args : si->entry.args, sizeof(t->args));
	t->sp = si->sp;
	t->ts_entry = tr_now(CLOCK_REALTIME);
	t->mem.len = 0;
	t->mem.overflow = 0;
	t->mem_n = 0;
	if (pe && (ef & TR_EF_FETCH_ENTRY))
		t->mem_n = tr_fetch(L, t, pe, 0, &t->mem, 0);
	t->has_cpu = 0;
	if (L->plan.flags & TR_PF_CPU_TIME) {
		int64_t c = tr_cpu(t);

		if (c >= 0) {
			t->cpu_entry = c;
			t->has_cpu = 1;
		}
	}
	if (!L->plain && !(ef & TR_EF_EXIT)) {
		t->flags &= ~T_WANT_EXIT;
		tr_resume(L, t, 0);
		tr_emit_call(L, t, 0, 0, 0, 0, NULL, 0, -1, TR_SF_NO_EXIT);
		return;
	}
	t->flags |= T_WANT_EXIT;
	t->mono_entry = tr_now(CLOCK_MONOTONIC);
	tr_resume(L, t, 0);
	tr_pending_add(L, t);
}

static void tr_on_exit(struct tr_loop *L, struct tr_task *t, struct tr_sysinfo *si)
{
	int64_t mono = tr_now(CLOCK_MONOTONIC), cpu = -1;
	unsigned int xn = 0;
	struct tr_pentry *pe;

	if (t->flags & T_IGNORE || !(t->flags & T_INSYS)) {
		/* attach mode: an unselected call, or the exit of a call that
		 * was under way when we attached */
		if (!(t->flags & T_INSYS) && !(t->flags & T_IGNORE) && L->plain) {
			long nr = ptrace(PTRACE_PEEKUSER, t->tid, (void *)TR_ORIG_RAX_OFF, 0);

			if (nr >= 0 && tr_plan_lookup(&L->plan, TR_PERS_X86_64, (uint32_t)nr)) {
				t->pers = TR_PERS_X86_64;
				t->nr = (uint32_t)nr;
				t->flags |= T_SPLIT | T_INSYS;
				t->mono_entry = mono;
				t->mem_n = 0;
				t->mem.len = 0;
				t->has_cpu = 0;
				goto record;
			}
		}
		t->flags &= ~(T_IGNORE | T_INSYS | T_WANT_EXIT);
		tr_resume(L, t, 0);
		return;
	}
record:
	L->scratch.len = 0;
	L->scratch.overflow = 0;
	if (!si->exit.is_error && (t->eflags & TR_EF_FETCH_EXIT)) {
		pe = tr_plan_lookup(&L->plan, t->pers, t->nr);
		if (pe)
			xn = tr_fetch(L, t, pe, 1, &L->scratch, si->exit.rval);
	}
	if (t->has_cpu) {
		int64_t c = tr_cpu(t);

		if (c >= 0)
			cpu = c - (int64_t)t->cpu_entry;
	}
	t->flags &= ~T_WANT_EXIT;
	tr_resume(L, t, 0);
	tr_emit_call(L, t, 1, si->exit.rval, si->exit.is_error, mono - t->mono_entry, &L->scratch, xn, cpu, 0);
}

/* A task went away with a call under way (exit_group, execve of another
 * thread, SIGKILL): the call is written without a return value. */
static void tr_vanish_call(struct tr_loop *L, struct tr_task *t)
{
	if ((t->flags & (T_INSYS | T_IGNORE)) == T_INSYS)
		tr_emit_call(L, t, 0, 0, 0, 0, NULL, 0, -1, TR_SF_VANISHED);
	t->flags &= ~(T_INSYS | T_WANT_EXIT | T_IGNORE | T_SPLIT);
}

static void tr_detach_task(struct tr_loop *L, struct tr_task *t, int sig)
{
	if ((t->flags & (T_INSYS | T_IGNORE | T_SPLIT)) == T_INSYS)
		tr_emit_entry(L, t);
	ptrace(PTRACE_DETACH, t->tid, 0L, (long)sig);
	tr_emit_simple(L, TR_REC_DETACH, t, 0, 0, 0);
	tr_task_free(L, t);
}

static void tr_ghost_add(struct tr_loop *L, int tid)
{
	if (L->nghosts == L->ghostcap) {
		unsigned int cap = L->ghostcap ? L->ghostcap * 2 : 16;
		int *g = realloc(L->ghosts, cap * sizeof(*g));

		if (!g)
			return;
		L->ghosts = g;
		L->ghostcap = cap;
	}
	L->ghosts[L->nghosts++] = tid;
}

static int tr_ghost_take(struct tr_loop *L, int tid)
{
	for (unsigned int i = 0; i < L->nghosts; i++) {
		if (L->ghosts[i] == tid) {
			L->ghosts[i] = L->ghosts[--L->nghosts];
			return 1;
		}
	}
	return 0;
}

/* A non-leader thread exec'd: it takes the leader's tid; the old leader's
 * task is gone. Returns the task that now holds `t`'s tid. */
static struct tr_task *tr_exec_rename(struct tr_loop *L, struct tr_task *t, int old)
{
	struct tr_task *o = old != t->tid ? tr_find(L, old) : NULL;
	int tid = t->tid;

	if (!o)
		return t;
	tr_vanish_call(L, t);
	tr_task_free(L, t);
	tr_hash_remove(L, o);
	o->tid = tid;
	tr_hash_insert(L, o);
	if (o->sched_fd >= 0)
		close(o->sched_fd);
	if (o->mem_fd >= 0)
		close(o->mem_fd);
	o->sched_fd = o->mem_fd = -1;
	return o;
}

/* Pass-through (an injected filter outlives its consumer): every stop is
 * resumed at once, nothing is fetched or recorded. */
static void tr_passthru_stop(struct tr_loop *L, struct tr_task *t, int sig, int ev)
{
	unsigned long msg = 0;

	switch (ev) {
	case TR_EV_SECCOMP:
		L->st->seccomp_stops++;
		break;
	case TR_EV_EXEC:
		ptrace(TR_PTRACE_GETEVENTMSG, t->tid, 0L, &msg);
		t = tr_exec_rename(L, t, (int)msg);
		break;
	case TR_EV_FORK:
	case TR_EV_VFORK:
	case TR_EV_CLONE:
		ptrace(TR_PTRACE_GETEVENTMSG, t->tid, 0L, &msg);
		if (!tr_find(L, (int)msg) && !tr_ghost_take(L, (int)msg))
			tr_task_new(L, (int)msg, ev == TR_EV_CLONE ? 0 : (int)msg);
		break;
	case TR_EV_STOP:
		if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
			ptrace(TR_PTRACE_LISTEN, t->tid, 0L, 0L);
			return;
		}
		break;
	case 0:
		if (sig != (SIGTRAP | 0x80)) {
			/* a signal-delivery-stop: the signal goes on */
			ptrace(PTRACE_CONT, t->tid, 0L, (long)sig);
			return;
		}
		L->st->syscall_stops++;
		break;
	}
	t->flags &= ~(T_WANT_EXIT | T_INSYS);
	ptrace(PTRACE_CONT, t->tid, 0L, 0L);
}

static void tr_on_status(struct tr_loop *L, int tid, int status)
{
	struct tr_task *t = tr_find(L, tid);
	struct tr_sysinfo si;
	unsigned long msg = 0;
	int sig, ev;

	L->st->stops++;
	if (!t) {
		if (!WIFSTOPPED(status)) {
			/* died before its first stop: keep its parent's
			 * event from bringing it back */
			tr_ghost_add(L, tid);
			return;
		}
		/* a new task reporting before its parent's event */
		t = tr_task_new(L, tid, 0);
		if (!t) {
			ptrace(PTRACE_DETACH, tid, 0L, 0L);
			return;
		}
	}
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		if (!(t->flags & T_ANNOUNCED))
			tr_ghost_add(L, t->tid);
		tr_vanish_call(L, t);
		if (WIFEXITED(status))
			tr_emit_simple(L, TR_REC_EXIT, t, 1, WEXITSTATUS(status), 0);
		else
			tr_emit_simple(L, TR_REC_KILLED, t, 2, WTERMSIG(status), WCOREDUMP(status) ? 1 : 0);
		if (!L->attach && L->cfg->npids && t->tid == L->cfg->pids[0])
			L->st->root_status = status; /* the leader reports last: the group's status */
		tr_task_free(L, t);
		return;
	}
	if (!WIFSTOPPED(status))
		return;
	sig = WSTOPSIG(status);
	ev = (unsigned int)status >> 16;
	t->flags |= T_STARTED;
	if (L->passthru) {
		tr_passthru_stop(L, t, sig, ev);
		return;
	}
	if (t->flags & T_DETACHING) {
		int inj = 0;

		/* a signal-delivery-stop's signal goes with the detach */
		if (!ev && sig != (SIGTRAP | 0x80))
			inj = sig;
		tr_detach_task(L, t, inj);
		return;
	}
	if (sig == (SIGTRAP | 0x80)) {
		L->st->syscall_stops++;
		if (ptrace(TR_PTRACE_GET_SYSCALL_INFO, tid, (void *)sizeof(si), &si) <= 0) {
			tr_resume(L, t, 0);
			return;
		}
		if (si.op == TR_SI_ENTRY)
			tr_on_entry(L, t, &si, 0);
		else if (si.op == TR_SI_EXIT)
			tr_on_exit(L, t, &si);
		else
			tr_resume(L, t, 0);
		return;
	}
	switch (ev) {
	case TR_EV_SECCOMP:
		L->st->seccomp_stops++;
		if (ptrace(TR_PTRACE_GET_SYSCALL_INFO, tid, (void *)sizeof(si), &si) <= 0 || si.op != TR_SI_SECCOMP) {
			tr_resume(L, t, 0);
			return;
		}
		if (t->flags & T_INSYS)
			tr_vanish_call(L, t); /* should not happen; keep records sane */
		tr_on_entry(L, t, &si, 1);
		return;
	case TR_EV_FORK:
	case TR_EV_VFORK:
	case TR_EV_CLONE: {
		struct tr_task *c;

		ptrace(TR_PTRACE_GETEVENTMSG, tid, 0L, &msg);
		c = tr_find(L, (int)msg);
		if (!c && !tr_ghost_take(L, (int)msg))
			c = tr_task_new(L, (int)msg, ev == TR_EV_CLONE ? 0 : (int)msg);
		tr_resume(L, t, 0);
		tr_emit_simple(L, TR_REC_NEWTASK, t, 2, (int64_t)msg,
			       ev == TR_EV_FORK ? TR_NEW_FORK : ev == TR_EV_VFORK ? TR_NEW_VFORK : TR_NEW_CLONE);
		if (c)
			c->flags |= T_ANNOUNCED;
		return;
	}
	case TR_EV_EXEC: {
		int old;

		ptrace(TR_PTRACE_GETEVENTMSG, tid, 0L, &msg);
		old = (int)msg;
		t = tr_exec_rename(L, t, old);
		tr_resume(L, t, 0);
		tr_emit_simple(L, TR_REC_EXEC, t, 1, old, 0);
		return;
	}
	case TR_EV_EXIT:
	case TR_EV_VFORK_DONE:
		tr_resume(L, t, 0);
		return;
	case TR_EV_STOP:
		if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
			/* group-stop: stay stopped, but let us see SIGCONT */
			ptrace(TR_PTRACE_LISTEN, tid, 0L, 0L);
			tr_emit_simple(L, TR_REC_STOPPED, t, 1, sig, 0);
		} else {
			tr_resume(L, t, 0);
		}
		return;
	case 0:
		break;
	default:
		tr_resume(L, t, 0);
		return;
	}
	/* signal-delivery-stop */
	{
		unsigned char sinfo[128];

		memset(sinfo, 0, sizeof(sinfo));
		ptrace(TR_PTRACE_GETSIGINFO, tid, 0L, sinfo);
		tr_resume(L, t, sig);
		tr_split_others(L, t);
		tr_rec_room(L, 256);
		tr_rec_head(L, TR_REC_SIGNAL, 7, t, tr_now(CLOCK_REALTIME));
		tr_mp_uint(&L->out, sig);
		tr_mp_bin(&L->out, sinfo, sizeof(sinfo));
		tr_rec_end(L, t);
	}
}

/* wait says nothing is left to trace: whatever the table still holds
 * never reported and never will (a safety net: the loop must end). */
static void tr_forget_all(struct tr_loop *L)
{
	for (unsigned int i = 0; i < L->hsize; i++) {
		while (L->hash[i]) {
			struct tr_task *t = L->hash[i];

			tr_vanish_call(L, t);
			tr_task_free(L, t);
		}
	}
}

static void tr_drain_wait(struct tr_loop *L)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, __WALL | WNOHANG);

		if (pid <= 0) {
			if (pid < 0 && errno == EINTR)
				continue;
			if (pid < 0 && errno == ECHILD)
				tr_forget_all(L);
			return;
		}
		tr_on_status(L, pid, status);
	}
}

/* ------------------------------------------------------------------------
 * Ending: kill (launch) or detach (attach) every task.
 * ---------------------------------------------------------------------- */

static void tr_kill_all(struct tr_loop *L)
{
	L->ending = 1;
	for (unsigned int i = 0; i < L->hsize; i++)
		for (struct tr_task *t = L->hash[i]; t; t = t->hnext)
			kill(t->tgid, SIGKILL);
}

static void tr_detach_all(struct tr_loop *L)
{
	L->ending = 1;
	for (unsigned int i = 0; i < L->hsize; i++) {
		for (struct tr_task *t = L->hash[i]; t; t = t->hnext) {
			t->flags |= T_DETACHING;
			ptrace(TR_PTRACE_INTERRUPT, t->tid, 0L, 0L);
		}
	}
}

/* The consumer detached (or went away) from processes that carry an
 * injected filter. Detaching would leave them with SECCOMP_RET_TRACE and no
 * tracer: every traced call would fail with ENOSYS. So the tasks stay
 * attached and the loop turns pass-through until the last one exits. The
 * consumer sees its session end as a detach (DETACH records, a note per
 * process, EOF). */
static void tr_passthru_begin(struct tr_loop *L)
{
	const struct tr_config *c = L->cfg;
	int *seen = calloc(L->ntasks + 1, sizeof(int));
	unsigned int nseen = 0;
	char msg[200];

	L->ending = 1;
	tr_split_others(L, NULL);
	for (unsigned int i = 0; i < L->hsize; i++) {
		for (struct tr_task *t = L->hash[i]; t; t = t->hnext) {
			unsigned int k;

			tr_emit_simple(L, TR_REC_DETACH, t, 0, 0, 0);
			for (k = 0; seen && k < nseen && seen[k] != t->tgid; k++)
				;
			if (seen && k == nseen)
				seen[nseen++] = t->tgid;
		}
	}
	for (unsigned int k = 0; k < nseen; k++) {
		snprintf(msg, sizeof(msg),
			 "process %d keeps its seccomp filter; tracer pid %d stays attached (pass-through) until it exits",
			 seen[k], (int)getpid());
		tr_rec_error(L, NULL, 0, msg);
	}
	free(seen);
	L->final = 1;
	tr_flush(L);
	if (L->tail_len && !L->consumer_gone)
		tr_push_tail(L, 1);
	L->final = 0;
	L->passthru = 1;
	L->consumer_gone = 1;
	if (c->out_fd >= 0)
		close(c->out_fd); /* the consumer's stream ends here */
	if (c->passthru_fd >= 0) {
		if (write(c->passthru_fd, "P", 1) < 0)
			(void)0;
		close(c->passthru_fd);
		((struct tr_config *)c)->passthru_fd = -1;
	}
	/* nobody is left to decide when we end but the tracees: a terminal's
	 * hangup, a job-control kill or a stray SIGTERM must not leave them
	 * with a filter and no tracer (SIGKILL still can: docs/design-notes.md) */
	signal(SIGHUP, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	/* and it must not hold the consumer's terminal or pipes open (a
	 * `tracectl attach ... 2>&1 | tee` would not end until the tracee does) */
	{
		int nul = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (nul >= 0) {
			for (int fd = 0; fd <= 2; fd++)
				if (fd != nul)
					dup2(nul, fd);
			if (nul > 2)
				close(nul);
		}
	}
}

static void tr_end(struct tr_loop *L)
{
	if (L->ending)
		return;
	if (L->injected)
		tr_passthru_begin(L);
	else if (L->attach)
		tr_detach_all(L);
	else
		tr_kill_all(L);
}

static void tr_on_ctl(struct tr_loop *L)
{
	unsigned char m[8];
	ssize_t n = read(L->cfg->ctl_fd, m, sizeof(m));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		/* the consumer is gone: nothing more can be delivered */
		L->consumer_gone = 1;
		tr_end(L);
		return;
	}
	if (n < 8)
		return; /* messages are 8 bytes; a short read is a broken peer */
	switch (tr_le32(m)) {
	case TR_CTL_DETACH:
		if (L->injected) {
			if (!L->ending)
				tr_passthru_begin(L);
		} else if (L->attach) {
			tr_detach_all(L);
		} else {
			tr_kill_all(L);
		}
		break;
	case TR_CTL_KILL:
		tr_kill_all(L);
		break;
	case TR_CTL_FLUSH:
		tr_split_others(L, NULL);
		tr_flush(L);
		break;
	}
}

/* Announce calls blocked for longer than the flush interval. */
static void tr_on_tick(struct tr_loop *L)
{
	int64_t now = tr_now(CLOCK_REALTIME);
	struct tr_task *p, *n;

	for (p = L->pending.pnext; p != &L->pending; p = n) {
		n = p->pnext;
		if (now - p->ts_entry >= L->flush_ns)
			tr_emit_entry(L, p);
	}
	tr_flush(L);
}

/* ------------------------------------------------------------------------
 * Seizing.
 * ---------------------------------------------------------------------- */

static int tr_seize(struct tr_loop *L, int tid, int tgid, int interrupt)
{
	long opts = TR_O_TRACESYSGOOD | TR_O_TRACESECCOMP | TR_O_TRACECLONE | TR_O_TRACEFORK | TR_O_TRACEVFORK |
		    TR_O_TRACEEXEC | TR_O_TRACEEXIT;
	struct tr_task *t;

	if (!L->attach)
		opts |= TR_O_EXITKILL;
	if (ptrace(TR_PTRACE_SEIZE, tid, 0L, opts) < 0)
		return -errno;
	t = tr_task_new(L, tid, tgid);
	if (!t)
		return -ENOMEM;
	t->flags |= T_ANNOUNCED;
	if (interrupt)
		ptrace(TR_PTRACE_INTERRUPT, tid, 0L, 0L);
	return 0;
}

static void tr_fail(struct tr_loop *L, const char *fmt, int a, int err)
{
	snprintf(L->err, L->errlen, fmt, a, strerror(err));
}

static int tr_attach_pid(struct tr_loop *L, int pid)
{
	char path[64];
	int added, r, tgid = pid;

	/* the first thread decides whether the pid can be traced at all */
	if (!tr_find(L, pid)) {
		r = tr_seize(L, pid, 0, 1);
		if (r < 0) {
			tr_fail(L, "attach: ptrace(PTRACE_SEIZE, %d): %s", pid, -r);
			return r;
		}
		tgid = tr_find(L, pid)->tgid;
	}
	snprintf(path, sizeof(path), "/proc/%d/task", tgid);
	do {
		DIR *d = opendir(path);
		struct dirent *de;

		added = 0;
		if (!d)
			break;
		while ((de = readdir(d))) {
			int tid = atoi(de->d_name);

			if (tid <= 0 || tr_find(L, tid))
				continue;
			if (tr_seize(L, tid, tgid, 1) == 0)
				added++;
		}
		closedir(d);
	} while (added);
	return 0;
}

/* ------------------------------------------------------------------------
 * Injecting the filter into running processes (attach --seccomp-bpf).
 *
 * Every thread is seized and held in its first stop; then, per process,
 * one held thread runs mmap, seccomp(SECCOMP_SET_MODE_FILTER, TSYNC) (and
 * prctl(PR_SET_NO_NEW_PRIVS) only after EACCES, as launch mode does) and
 * munmap, each as a `syscall` instruction the thread executes under
 * PTRACE_SYSCALL; its registers (and the text word, if one was patched) are
 * restored afterwards. TSYNC gives every thread of the process the filter.
 * x86-64 hosts only; a 32-bit thread makes the calls as i386 calls.
 * ---------------------------------------------------------------------- */

/* kernel-internal return values of an interrupted call (include/linux/errno.h) */
#define TR_ERESTARTSYS 512
#define TR_ERESTARTNOINTR 513
#define TR_ERESTARTNOHAND 514
#define TR_ERESTART_RESTARTBLOCK 516
#define TR_USER32_CS 0x23 /* arch/x86/include/asm/segment.h: __USER32_CS */
#define TR_INSN_SYSCALL 0x050f /* 0f 05, little-endian */
#define TR_INSN_INT80 0x80cd /* cd 80 */

#ifdef __x86_64__

/* The process's own seccomp filters decide our calls too: a filter that
 * kills (or traps, or hands to a user-space notifier) on mmap or seccomp
 * would take the process down with our injection. So the filters are read
 * (PTRACE_SECCOMP_GET_FILTER) and each injected call is run through them
 * here first: a tiny classic-BPF interpreter over the instructions the
 * kernel accepts in a seccomp filter (kernel/seccomp.c). */
#define TR_PTRACE_SECCOMP_GET_FILTER 0x420c

struct tr_sfilter {
	uint16_t code;
	uint8_t jt, jf;
	uint32_t k;
};

struct tr_filters {
	int n;
	struct tr_sfilter *prog[64];
	int len[64];
};

static void tr_filters_free(struct tr_filters *f)
{
	for (int i = 0; i < f->n; i++)
		free(f->prog[i]);
	f->n = 0;
}

/* Run one filter on seccomp_data `d` (64 bytes); the action, or -1 when the
 * program is one we cannot run. */
static int64_t tr_bpf_run(const struct tr_sfilter *p, int len, const unsigned char *d)
{
	uint32_t A = 0, X = 0, M[16] = { 0 };

	for (int pc = 0; pc < len; pc++) {
		const struct tr_sfilter *f = &p[pc];
		uint32_t k = f->k, src = (f->code & 0x08) ? X : k, v;

		switch (f->code & 0x07) {
		case 0x00: /* LD */
		case 0x01: /* LDX */
			switch (f->code & 0xe0) {
			case 0x00: v = k; break; /* IMM */
			case 0x20: /* ABS */
				if ((f->code & 0x18) != 0 || k > 60 || (k & 3))
					return -1;
				memcpy(&v, d + k, 4);
				break;
			case 0x60: /* MEM */
				if (k > 15)
					return -1;
				v = M[k];
				break;
			case 0x80: v = 64; break; /* LEN */
			default: return -1;
			}
			if (f->code & 0x07)
				X = v;
			else
				A = v;
			break;
		case 0x02: /* ST */
		case 0x03: /* STX */
			if (k > 15)
				return -1;
			M[k] = (f->code & 0x07) == 0x02 ? A : X;
			break;
		case 0x04: /* ALU */
			switch (f->code & 0xf0) {
			case 0x00: A += src; break;
			case 0x10: A -= src; break;
			case 0x20: A *= src; break;
			case 0x30: if (!src) return -1; A /= src; break;
			case 0x40: A |= src; break;
			case 0x50: A &= src; break;
			case 0x60: A = src >= 32 ? 0 : A << src; break;
			case 0x70: A = src >= 32 ? 0 : A >> src; break;
			case 0x80: A = -A; break;
			case 0x90: if (!src) return -1; A %= src; break;
			case 0xa0: A ^= src; break;
			default: return -1;
			}
			break;
		case 0x05: /* JMP */
			switch (f->code & 0xf0) {
			case 0x00: pc += k; continue; /* JA */
			case 0x10: pc += A == src ? f->jt : f->jf; break;
			case 0x20: pc += A > src ? f->jt : f->jf; break;
			case 0x30: pc += A >= src ? f->jt : f->jf; break;
			case 0x40: pc += (A & src) ? f->jt : f->jf; break;
			default: return -1;
			}
			break;
		case 0x06: /* RET */
			switch (f->code & 0x18) {
			case 0x00: return k;
			case 0x10: return A;
			default: return -1;
			}
		case 0x07: /* MISC */
			if ((f->code & 0xf8) == 0x00)
				X = A;
			else if ((f->code & 0xf8) == 0x80)
				A = X;
			else
				return -1;
			break;
		}
	}
	return -1; /* fell off the end: the kernel would have refused it */
}

/* Read the process's filters. 0, or -errno with the message in L->err. */
static int tr_filters_read(struct tr_loop *L, int tgid, int tid, struct tr_filters *f)
{
	char path[64], buf[4096], *s;
	ssize_t n;
	int fd, mode = 0;

	f->n = 0;
	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = 0;
		s = strstr(buf, "\nSeccomp:");
		if (s)
			mode = atoi(s + 9);
	}
	if (mode == SECCOMP_MODE_STRICT) {
		snprintf(L->err, L->errlen,
			 "attach --seccomp-bpf: process %d is in seccomp strict mode: injecting the filter would kill it", tgid);
		return -EPERM;
	}
	if (mode != SECCOMP_MODE_FILTER)
		return 0;
	for (;;) {
		long cnt = ptrace(TR_PTRACE_SECCOMP_GET_FILTER, tid, (void *)(long)f->n, NULL);

		if (cnt < 0 && errno == ENOENT)
			return 0;
		if (cnt <= 0 || f->n == 64) {
			snprintf(L->err, L->errlen,
				 "attach --seccomp-bpf: process %d has seccomp filters of its own that cannot be read (PTRACE_SECCOMP_GET_FILTER: %s): injecting could kill it",
				 tgid, cnt < 0 ? strerror(errno) : "too many");
			tr_filters_free(f);
			return -EPERM;
		}
		f->prog[f->n] = calloc(cnt, sizeof(struct tr_sfilter));
		if (!f->prog[f->n] || ptrace(TR_PTRACE_SECCOMP_GET_FILTER, tid, (void *)(long)f->n, f->prog[f->n]) != cnt) {
			free(f->prog[f->n]);
			snprintf(L->err, L->errlen, "attach --seccomp-bpf: process %d: cannot read its seccomp filters", tgid);
			tr_filters_free(f);
			return -EPERM;
		}
		f->len[f->n++] = (int)cnt;
	}
}

/* What the process's filters say to one call from `ip`: 0 when it may run
 * (allowed, logged, traced to us, or failed with an errno), else -EPERM
 * with the message in L->err. */
static int tr_filters_allow(struct tr_loop *L, int tgid, const struct tr_filters *f, const char *what, long nr,
			    uint32_t arch, uint64_t ip, const long *args)
{
	unsigned char d[64];
	uint32_t nr32 = (uint32_t)nr;
	int32_t worst = (int32_t)SECCOMP_RET_ALLOW;

	memcpy(d, &nr32, 4);
	memcpy(d + 4, &arch, 4);
	memcpy(d + 8, &ip, 8);
	for (int i = 0; i < 6; i++) {
		/* i386 calls see their registers zero-extended */
		uint64_t a = arch == TR_AUDIT_ARCH_I386 ? (uint32_t)args[i] : (uint64_t)args[i];

		memcpy(d + 16 + 8 * i, &a, 8);
	}
	for (int i = 0; i < f->n; i++) {
		int64_t r = tr_bpf_run(f->prog[i], f->len[i], d);
		int32_t act;

		if (r < 0) {
			snprintf(L->err, L->errlen,
				 "attach --seccomp-bpf: process %d has a seccomp filter tracectl cannot evaluate: not injected", tgid);
			return -EPERM;
		}
		act = (int32_t)((uint32_t)r & SECCOMP_RET_ACTION_FULL);
		if (act < worst)
			worst = act;
	}
	if (worst == (int32_t)SECCOMP_RET_ALLOW || worst == (int32_t)SECCOMP_RET_LOG ||
	    worst == (int32_t)SECCOMP_RET_TRACE || worst == (int32_t)SECCOMP_RET_ERRNO)
		return 0;
	snprintf(L->err, L->errlen,
		 "attach --seccomp-bpf: process %d has a seccomp filter that would %s on %s: not injected", tgid,
		 worst == (int32_t)SECCOMP_RET_TRAP ? "send SIGSYS" :
		 worst == (int32_t)SECCOMP_RET_USER_NOTIF ? "ask a supervisor" : "kill it",
		 what);
	return -EPERM;
}

/* The calls as the injecting thread makes them: x86-64 `syscall`, or
 * i386 `int 0x80` in a 32-bit process (asm/unistd_32.h numbers; mmap2). */
struct tr_inj_abi {
	long mmap, munmap, prctl, seccomp;
	uint32_t arch;
	uint16_t insn;
	const char *mmap_name;
};
static const struct tr_inj_abi tr_abi64 = { SYS_mmap, SYS_munmap, SYS_prctl, SYS_seccomp, TR_AUDIT_ARCH_X86_64,
					    TR_INSN_SYSCALL, "mmap" };
static const struct tr_inj_abi tr_abi32 = { 192, 91, 172, 354, TR_AUDIT_ARCH_I386, TR_INSN_INT80, "mmap2" };
#define TR_I386_RESTART_SYSCALL 0

struct tr_inj {
	struct tr_task *t;
	struct user_regs_struct saved, base;
	uint64_t poke_addr;
	long poke_word;
	int poked;
	int refused; /* the process's own filters would not let a call run */
	const struct tr_inj_abi *abi;
	int restart_i386; /* the interrupted call came in through int 0x80 */
	uint64_t sigs; /* signals that arrived meanwhile, sent again after */
	struct tr_filters filt;
};


/* Peek a text word; 0 and errno set on failure. */
static long tr_peek_word(int tid, uint64_t addr, int *ok)
{
	long w;

	errno = 0;
	w = ptrace(PTRACE_PEEKTEXT, tid, (void *)(uintptr_t)addr, 0L);
	*ok = errno == 0;
	return w;
}

/* Run one system call in the held thread. Returns 0 with the call's
 * return value (-errno on failure) in *ret, or -errno when ptrace failed
 * or the thread died (its death is passed on to the loop). */
static int tr_inj_call(struct tr_loop *L, struct tr_inj *j, const char *name, long nr, long a0, long a1, long a2,
		       long a3, long a4, long a5, long *ret)
{
	struct user_regs_struct r = j->base;
	int tid = j->t->tid, entered = 0, status, sig = 0;
	long args[6] = { a0, a1, a2, a3, a4, a5 };

	if (tr_filters_allow(L, j->t->tgid, &j->filt, name, nr, j->abi->arch, j->base.rip + 2, args) < 0) {
		j->refused = 1;
		return -EPERM;
	}

	r.rax = nr;
	if (j->abi == &tr_abi32) {
		r.rbx = (uint32_t)a0;
		r.rcx = (uint32_t)a1;
		r.rdx = (uint32_t)a2;
		r.rsi = (uint32_t)a3;
		r.rdi = (uint32_t)a4;
		r.rbp = (uint32_t)a5;
	} else {
		r.rdi = a0;
		r.rsi = a1;
		r.rdx = a2;
		r.r10 = a3;
		r.r8 = a4;
		r.r9 = a5;
	}
	if (ptrace(PTRACE_SETREGS, tid, 0L, &r) < 0)
		return -errno;
	for (;;) {
		struct tr_sysinfo si;
		pid_t p;
		int ev;

		if (ptrace(PTRACE_SYSCALL, tid, 0L, (long)sig) < 0)
			return -errno;
		sig = 0;
		do
			p = waitpid(tid, &status, __WALL);
		while (p < 0 && errno == EINTR);
		if (p < 0)
			return -errno;
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			tr_on_status(L, tid, status);
			j->t = NULL;
			return -ESRCH;
		}
		if (!WIFSTOPPED(status))
			continue;
		ev = (unsigned int)status >> 16;
		if (WSTOPSIG(status) == (SIGTRAP | 0x80)) {
			if (ptrace(TR_PTRACE_GET_SYSCALL_INFO, tid, (void *)sizeof(si), &si) <= 0)
				return -errno;
			if (si.op == TR_SI_ENTRY) {
				entered = 1;
			} else if (si.op == TR_SI_EXIT && entered) {
				*ret = (long)si.exit.rval;
				return 0;
			}
		} else if (ev == 0) {
			/* a signal on its way in: held back until we are done
			 * (no handler may run on injected registers) */
			int s = WSTOPSIG(status);

			if (s >= 1 && s <= 64)
				j->sigs |= 1ull << (s - 1);
		}
		/* seccomp stops (our own filter, once installed), PTRACE_EVENT_EXIT
		 * of a thread being killed: go on */
	}
}

/* Registers the thread goes on with: as saved, except that a call the
 * interruption cut short is set up to be restarted, as the kernel does
 * when no handler runs (arch/x86/kernel/signal.c) -- the thread leaves
 * from our last call's exit stop, where the kernel no longer would. */
static struct user_regs_struct tr_inj_restored(const struct user_regs_struct *s, int restart_i386)
{
	struct user_regs_struct r = *s;

	if ((long)s->orig_rax >= 0) {
		switch (-(long)s->rax) {
		case TR_ERESTARTSYS:
		case TR_ERESTARTNOINTR:
		case TR_ERESTARTNOHAND:
			r.rax = s->orig_rax;
			r.rip -= 2;
			r.orig_rax = -1;
			break;
		case TR_ERESTART_RESTARTBLOCK:
			r.rax = restart_i386 ? TR_I386_RESTART_SYSCALL : SYS_restart_syscall;
			r.rip -= 2;
			r.orig_rax = -1;
			break;
		}
	}
	return r;
}

static void tr_inj_undo(struct tr_inj *j)
{
	struct user_regs_struct r;

	if (!j->t)
		return;
	if (j->poked)
		ptrace(PTRACE_POKETEXT, j->t->tid, (void *)(uintptr_t)j->poke_addr, (void *)j->poke_word);
	r = tr_inj_restored(&j->saved, j->restart_i386);
	ptrace(PTRACE_SETREGS, j->t->tid, 0L, &r);
	for (int s = 1; s <= 64; s++)
		if (j->sigs & (1ull << (s - 1)))
			syscall(SYS_tgkill, j->t->tgid, j->t->tid, s);
}

/* Pick the thread of process `tgid` to run the calls in: held in a
 * ptrace-stop of its own (not a group-stop); one outside any call
 * preferred (nothing to restart), else one interrupted in a call it
 * entered with `syscall` or `int 0x80` (the two bytes before ip). A
 * 32-bit thread makes our calls as i386 calls through int 0x80.
 * Returns 0 or -errno with the message in L->err. */
static int tr_inj_pick(struct tr_loop *L, int tgid, struct tr_inj *j)
{
	int nstopped = 0, nunknown = 0, ok;

	memset(j, 0, sizeof(*j));
	for (unsigned int i = 0; i < L->hsize; i++) {
		for (struct tr_task *t = L->hash[i]; t; t = t->hnext) {
			struct user_regs_struct r;
			int int80 = 0;

			if (t->tgid != tgid || !(t->flags & T_HELD))
				continue;
			if (WSTOPSIG(t->held_status) != SIGTRAP) {
				nstopped++;
				continue;
			}
			if (ptrace(PTRACE_GETREGS, t->tid, 0L, &r) < 0)
				continue;
			if ((long)r.orig_rax >= 0) {
				long w = tr_peek_word(t->tid, r.rip - 2, &ok);

				/* 32-bit code enters through int 0x80 (the vDSO's
				 * sysenter/syscall paths return behind one too) */
				if (ok && (w & 0xffff) == TR_INSN_INT80)
					int80 = 1;
				else if (!ok || (w & 0xffff) != TR_INSN_SYSCALL || r.cs == TR_USER32_CS) {
					nunknown++;
					continue; /* we cannot tell how it entered */
				}
				if (!j->t) {
					j->t = t;
					j->saved = r;
					j->restart_i386 = int80;
				}
				continue;
			}
			j->t = t;
			j->saved = r;
			j->restart_i386 = 0;
			break;
		}
		if (j->t && (long)j->saved.orig_rax < 0)
			break;
	}
	if (j->t) {
		j->abi = j->saved.cs == TR_USER32_CS ? &tr_abi32 : &tr_abi64;
		return 0;
	}
	if (nstopped)
		snprintf(L->err, L->errlen, "attach --seccomp-bpf: process %d is stopped: cannot inject the filter", tgid);
	else
		snprintf(L->err, L->errlen,
			 "attach --seccomp-bpf: process %d: no thread to inject the filter with%s", tgid,
			 nunknown ? " (each is inside a call entered in a way tracectl cannot restart)" : "");
	return -EINVAL;
}

static int tr_inj_write(int tid, uint64_t addr, const void *src, size_t len)
{
	struct iovec l = { (void *)src, len }, r = { (void *)(uintptr_t)addr, len };
	char path[64];
	ssize_t n;
	int fd;

	n = process_vm_writev(tid, &l, 1, &r, 1, 0);
	if (n == (ssize_t)len)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/mem", tid);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pwrite(fd, src, len, (off_t)addr);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

#define TR_INJ_FAIL(...) (snprintf(L->err, L->errlen, __VA_ARGS__), r = -EINVAL)

/* Install the filter in process `tgid`. Returns 0, or -errno with the
 * message in L->err (the process is left as it was, save for
 * NO_NEW_PRIVS when seccomp failed after setting it). */
static int tr_inject_one(struct tr_loop *L, int tgid)
{
	const struct tr_config *c = L->cfg;
	size_t len = 16 + c->inject_bpf_len, size = (len + TR_PAGE - 1) & ~(size_t)(TR_PAGE - 1);
	unsigned char *blob;
	struct tr_inj j;
	long addr = 0, ret = 0, w;
	int r, ok;

	r = tr_inj_pick(L, tgid, &j);
	if (r < 0)
		return r;
	r = tr_filters_read(L, tgid, j.t->tid, &j.filt);
	if (r < 0)
		return r;
	/* every call we may make, before the first one runs (the pointers are
	 * not known yet: filters seldom look at them; each call is checked
	 * again with its real arguments) */
	{
		long a_mmap[6] = { 0, (long)size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0 };
		long a_sc[6] = { SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, 0, 0, 0, 0 };
		long a_nnp[6] = { PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0 };
		long a_unmap[6] = { 0, (long)size, 0, 0, 0, 0 };
		uint64_t ip = j.saved.rip; /* either insn ends at or near here */
		const struct tr_inj_abi *A = j.abi;

		if (tr_filters_allow(L, tgid, &j.filt, A->mmap_name, A->mmap, A->arch, ip, a_mmap) < 0 ||
		    tr_filters_allow(L, tgid, &j.filt, "seccomp", A->seccomp, A->arch, ip, a_sc) < 0 ||
		    tr_filters_allow(L, tgid, &j.filt, "prctl", A->prctl, A->arch, ip, a_nnp) < 0 ||
		    tr_filters_allow(L, tgid, &j.filt, "munmap", A->munmap, A->arch, ip, a_unmap) < 0) {
			tr_filters_free(&j.filt);
			return -EPERM;
		}
	}
	/* the instruction to run: the thread's last `syscall` (int 0x80 for
	 * a 32-bit thread) if it sits just before ip (nothing to patch), else
	 * one written over ip for now */
	w = tr_peek_word(j.t->tid, j.saved.rip - 2, &ok);
	j.base = j.saved;
	j.base.orig_rax = -1; /* no restart logic on injected registers */
	if (ok && (w & 0xffff) == j.abi->insn) {
		j.base.rip = j.saved.rip - 2;
	} else {
		j.poke_addr = j.saved.rip;
		j.poke_word = tr_peek_word(j.t->tid, j.poke_addr, &ok);
		if (!ok || ptrace(PTRACE_POKETEXT, j.t->tid, (void *)(uintptr_t)j.poke_addr,
				  (void *)((j.poke_word & ~0xffffL) | j.abi->insn)) < 0) {
			snprintf(L->err, L->errlen, "attach --seccomp-bpf: process %d: cannot write its text: %s", tgid,
				 strerror(errno));
			tr_filters_free(&j.filt);
			return -EINVAL;
		}
		j.poked = 1;
	}
	/* (mmap2's offset is in pages: 0 either way) */
	r = tr_inj_call(L, &j, j.abi->mmap_name, j.abi->mmap, 0, (long)size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, &addr);
	if (r < 0)
		goto died;
	if (addr < 0 && addr >= -4095) {
		TR_INJ_FAIL("attach --seccomp-bpf: %s in process %d: %s", j.abi->mmap_name, tgid, strerror((int)-addr));
		goto undo;
	}
	blob = calloc(1, len);
	if (!blob) {
		TR_INJ_FAIL("attach --seccomp-bpf: out of memory");
		goto unmap;
	}
	/* struct sock_fprog: unsigned short len; struct sock_filter *filter
	 * (a 4-byte pointer at offset 4 in an i386 process) */
	{
		uint16_t n = (uint16_t)(c->inject_bpf_len / 8);
		uint64_t p = (uint64_t)addr + 16;
		uint32_t p32 = (uint32_t)p;

		memcpy(blob, &n, 2);
		if (j.abi == &tr_abi32)
			memcpy(blob + 4, &p32, 4);
		else
			memcpy(blob + 8, &p, 8);
		memcpy(blob + 16, c->inject_bpf, c->inject_bpf_len);
	}
	r = tr_inj_write(j.t->tid, (uint64_t)addr, blob, len);
	free(blob);
	if (r < 0) {
		TR_INJ_FAIL("attach --seccomp-bpf: cannot write to process %d: %s", tgid, strerror(-r));
		goto unmap;
	}
	r = tr_inj_call(L, &j, "seccomp", j.abi->seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, addr, 0,
			0, 0, &ret);
	if (r < 0)
		goto died;
	if (ret == -EACCES) {
		/* no CAP_SYS_ADMIN in its user namespace: the kernel wants
		 * NO_NEW_PRIVS first (as launch mode does, only when needed) */
		long nnp = 0;

		r = tr_inj_call(L, &j, "prctl", j.abi->prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0, &nnp);
		if (r < 0)
			goto died;
		if (nnp == 0) {
			r = tr_inj_call(L, &j, "seccomp", j.abi->seccomp, SECCOMP_SET_MODE_FILTER,
					SECCOMP_FILTER_FLAG_TSYNC, addr, 0, 0, 0, &ret);
			if (r < 0)
				goto died;
		}
	}
	if (ret > 0)
		TR_INJ_FAIL("attach --seccomp-bpf: process %d: thread %ld has a seccomp filter of its own: the filter cannot be synchronized (TSYNC)",
			    tgid, ret);
	else if (ret < 0)
		TR_INJ_FAIL("attach --seccomp-bpf: seccomp(SECCOMP_SET_MODE_FILTER) in process %d: %s", tgid,
			    strerror((int)-ret));
	else
		r = 0;
unmap:
	{
		long u = 0;
		int r2 = tr_inj_call(L, &j, "munmap", j.abi->munmap, addr, (long)size, 0, 0, 0, 0, &u);

		/* a page left mapped is harmless; the filter's fate stands */
		j.refused = 0;
		if (r2 < 0 && !j.t) {
			r = r2;
			goto died;
		}
	}
undo:
	tr_inj_undo(&j);
	tr_filters_free(&j.filt);
	return r;
died:
	tr_inj_undo(&j);
	tr_filters_free(&j.filt);
	if (j.refused)
		; /* the message says which filter and call */
	else if (!j.t)
		snprintf(L->err, L->errlen, "attach --seccomp-bpf: process %d exited while the filter was injected", tgid);
	else
		snprintf(L->err, L->errlen, "attach --seccomp-bpf: process %d: ptrace: %s", tgid, strerror(-r));
	return r;
}

#else

static int tr_inject_one(struct tr_loop *L, int tgid)
{
	snprintf(L->err, L->errlen, "attach --seccomp-bpf: injecting the filter is supported on x86-64 only");
	return -EINVAL;
}

#endif

/* Wait until every seized task is held in its first stop (the interrupt
 * or group-stop PTRACE_EVENT_STOP); anything else that comes meanwhile is
 * handled as usual (new threads are seized and held too). */
static int tr_gather(struct tr_loop *L)
{
	for (;;) {
		unsigned int waiting = 0;
		struct tr_task *t;
		int status;
		pid_t pid;

		for (unsigned int i = 0; i < L->hsize; i++)
			for (t = L->hash[i]; t; t = t->hnext)
				waiting += !(t->flags & T_HELD);
		if (!waiting)
			return 0;
		pid = waitpid(-1, &status, __WALL);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECHILD) {
				tr_forget_all(L);
				return 0;
			}
			return -errno;
		}
		t = tr_find(L, pid);
		if (WIFSTOPPED(status) && ((unsigned int)status >> 16) == TR_EV_STOP && !(t && (t->flags & T_HELD))) {
			if (!t && !(t = tr_task_new(L, pid, 0))) {
				ptrace(PTRACE_DETACH, pid, 0L, 0L);
				continue;
			}
			t->flags |= T_HELD | T_STARTED;
			t->held_status = status;
			L->st->stops++;
			continue;
		}
		tr_on_status(L, pid, status);
		/* any other ptrace stop (a clone or exec event, a signal) used
		 * up the pending interrupt (kernel/signal.c, ptrace_stop: "any
		 * trap clears pending STOP trap"): ask again, or this thread
		 * would run on and never be held */
		t = tr_find(L, pid);
		if (t && !(t->flags & T_HELD) && WIFSTOPPED(status))
			ptrace(TR_PTRACE_INTERRUPT, pid, 0L, 0L);
	}
}

/* Let every held task go on from its first stop, as the loop would have. */
static void tr_release_held(struct tr_loop *L)
{
	for (unsigned int i = 0; i < L->hsize; i++) {
		for (struct tr_task *t = L->hash[i], *n; t; t = n) {
			n = t->hnext;
			if (t->flags & T_HELD) {
				t->flags &= ~T_HELD;
				L->st->stops--; /* counted when it was held */
				tr_on_status(L, t->tid, t->held_status);
			}
		}
	}
}

/* Injection for every seized process. Returns 0; or -errno with the
 * message in L->err after detaching every process that did not get the
 * filter (those that did stay attached: L->injected, and the caller turns
 * the loop pass-through). */
static int tr_inject_all(struct tr_loop *L)
{
	unsigned int cap, ng = 0, nok = 0;
	int *tg = NULL, *done = NULL, r;
	char first[512] = "";

	r = tr_gather(L);
	if (r < 0) {
		snprintf(L->err, L->errlen, "attach --seccomp-bpf: wait: %s", strerror(-r));
		goto detach;
	}
	/* sized after gathering: a child forked meanwhile is a process too */
	cap = L->ntasks + 1;
	tg = calloc(cap, sizeof(int));
	done = calloc(cap, sizeof(int));
	if (!tg || !done) {
		snprintf(L->err, L->errlen, "out of memory");
		r = -ENOMEM;
		goto detach;
	}
	for (unsigned int i = 0; i < L->hsize; i++) {
		for (struct tr_task *t = L->hash[i]; t; t = t->hnext) {
			unsigned int k;

			for (k = 0; k < ng && tg[k] != t->tgid; k++)
				;
			if (k == ng && ng < cap)
				tg[ng++] = t->tgid;
		}
	}
	for (unsigned int k = 0; k < ng; k++) {
		int e = tr_inject_one(L, tg[k]);

		if (e < 0) {
			if (!first[0])
				snprintf(first, sizeof(first), "%s", L->err);
			if (r == 0)
				r = e;
		} else {
			done[nok++] = tg[k];
		}
	}
	if (r == 0) {
		free(tg);
		free(done);
		return 0;
	}
	snprintf(L->err, L->errlen, "%s", first);
detach:
	/* processes without the filter are left as they were */
	for (unsigned int i = 0; i < L->hsize; i++) {
		for (struct tr_task *t = L->hash[i], *n; t; t = n) {
			unsigned int k;

			n = t->hnext;
			for (k = 0; k < nok && done[k] != t->tgid; k++)
				;
			if (k < nok)
				continue;
			ptrace(PTRACE_DETACH, t->tid, 0L, 0L);
			tr_task_free(L, t);
		}
	}
	if (nok) {
		size_t l = strlen(L->err);

		snprintf(L->err + l, L->errlen - l, "; process %d keeps its seccomp filter (tracer pid %d stays attached)",
			 done[0], (int)getpid());
	}
	free(tg);
	free(done);
	return r;
}

/* ------------------------------------------------------------------------
 * The loop.
 * ---------------------------------------------------------------------- */

/* Report start-up on ready_fd. An error that went out there is cleared
 * from err: the worker then prints nothing more (the consumer says it). */
static void tr_ready(const struct tr_config *c, char *err)
{
	if (c->ready_fd < 0)
		return;
	if (err) {
		size_t n = strlen(err);
		char *m = malloc(n + 1);

		if (m) {
			m[0] = 'E';
			memcpy(m + 1, err, n);
			if (write(c->ready_fd, m, n + 1) == (ssize_t)n + 1)
				err[0] = 0;
			free(m);
		}
	} else if (write(c->ready_fd, "", 1) < 0) {
		(void)0;
	}
	close(c->ready_fd);
}

static volatile sig_atomic_t tr_ticked;

static void tr_on_alarm(int sig)
{
	(void)sig;
	tr_ticked = 1;
}

static void tr_set_timer(int64_t ns)
{
	struct itimerval it;

	it.it_interval.tv_sec = ns / 1000000000;
	it.it_interval.tv_usec = (ns % 1000000000) / 1000;
	it.it_value = it.it_interval;
	setitimer(ITIMER_REAL, &it, NULL);
}

/* The other way to wait: block in wait4 itself, as strace does, so a stop
 * costs wait4 + GET_SYSCALL_INFO + resume and nothing else. A periodic
 * SIGALRM (handler without SA_RESTART) breaks the wait: every linger time
 * while a batch is open, every flush interval otherwise; the control fd is
 * read (non-blocking) at those ticks, so a control message waits at most
 * one flush interval. */
static int tr_loop_blocking(struct tr_loop *L)
{
	const struct tr_config *c = L->cfg;
	struct sigaction sa, old;
	int64_t period = L->linger_ns ? L->linger_ns : 1000000, last_tick = tr_now(CLOCK_MONOTONIC);
	int fast = 0, r = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = tr_on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &old);
	if (c->ctl_fd >= 0)
		fcntl(c->ctl_fd, F_SETFL, fcntl(c->ctl_fd, F_GETFL) | O_NONBLOCK);
	tr_ticked = 0;
	tr_set_timer(L->flush_ns);
	while (L->ntasks) {
		int status;
		pid_t pid;

		if (tr_ticked) {
			int64_t now = tr_now(CLOCK_MONOTONIC);

			tr_ticked = 0;
			while (c->ctl_fd >= 0 && !L->consumer_gone) {
				struct pollfd pfd = { c->ctl_fd, POLLIN, 0 };

				if (poll(&pfd, 1, 0) <= 0)
					break;
				tr_on_ctl(L);
			}
			if (now - last_tick >= L->flush_ns) {
				last_tick = now;
				tr_on_tick(L);
			} else {
				tr_flush(L);
			}
			if (!L->batch_count && fast > 0) {
				tr_set_timer(L->flush_ns);
				fast = 0;
			}
		}
		if (L->consumer_gone && !L->ending)
			tr_end(L);
		if (L->passthru) {
			/* nothing to flush or read any more: no ticks */
			if (fast >= 0)
				tr_set_timer(0);
			fast = -1;
		} else if (L->batch_count && !fast) {
			tr_set_timer(period);
			fast = 1;
		}
		pid = wait4(-1, &status, __WALL, NULL);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECHILD) {
				tr_forget_all(L);
				break;
			}
			r = -errno;
			break;
		}
		tr_on_status(L, pid, status);
	}
	tr_set_timer(0);
	sigaction(SIGALRM, &old, NULL);
	return r;
}

static void tr_loop_free(struct tr_loop *L)
{
	for (unsigned int i = 0; L->hash && i < L->hsize; i++) {
		struct tr_task *t = L->hash[i], *n;

		for (; t; t = n) {
			n = t->hnext;
			if (t->sched_fd >= 0)
				close(t->sched_fd);
			if (t->mem_fd >= 0)
				close(t->mem_fd);
			free(t->mem.p);
			free(t);
		}
	}
	free(L->hash);
	free(L->out.p);
	free(L->scratch.p);
	free(L->rd);
	free(L->tail);
	free(L->ghosts);
	tr_plan_free(&L->plan);
	if (L->sigfd >= 0)
		close(L->sigfd);
	if (L->tfd >= 0)
		close(L->tfd);
}

int tr_run(const struct tr_config *c, struct tr_stats *st, char *err, size_t errlen)
{
	struct tr_loop *L;
	sigset_t mask;
	int r = 0;

	L = calloc(1, sizeof(*L));
	if (!L)
		return -ENOMEM;
	L->cfg = c;
	L->st = st;
	L->err = err;
	L->errlen = errlen;
	L->sigfd = L->tfd = -1;
	L->attach = c->mode == TR_MODE_ATTACH;
	L->plain = L->attach && !c->inject_bpf_len;
	L->pending.pnext = L->pending.pprev = &L->pending;
	L->flush_ns = (int64_t)(c->flush_ms > 0 ? c->flush_ms : 20) * 1000000;
	L->linger_ns = c->linger_us > 0 ? (int64_t)c->linger_us * 1000 : 0;
	if (L->linger_ns > L->flush_ns)
		L->linger_ns = L->flush_ns;
	memset(st, 0, sizeof(*st));
	st->root_status = -1;

	if (c->inject_bpf_len && (!L->attach || c->inject_bpf_len % 8 || c->inject_bpf_len / 8 > 4096)) {
		snprintf(err, errlen, L->attach ? "invalid seccomp filter to inject" : "a filter is injected in attach mode only");
		tr_ready(c, err);
		free(L);
		return -EINVAL;
	}
	if (!L->plain && L->attach)
		signal(SIGHUP, SIG_IGN); /* a terminal's hangup must not end the tracer of a filtered process */
	r = tr_plan_parse(&L->plan, c->plan, c->plan_len);
	if (r < 0) {
		snprintf(err, errlen, "invalid fetch plan");
		tr_ready(c, err);
		free(L);
		return r;
	}
	L->hsize = 256;
	L->hash = calloc(L->hsize, sizeof(*L->hash));
	L->out.cap = TR_FRAME_HEADER_SIZE + TR_FRAME_MAX_PAYLOAD;
	L->out.p = malloc(L->out.cap);
	if (!L->hash || !L->out.p) {
		r = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		tr_ready(c, err);
		goto out;
	}
	if (c->batch_bytes == 0 || c->batch_bytes > TR_FRAME_MAX_PAYLOAD)
		((struct tr_config *)c)->batch_bytes = TR_FRAME_MAX_PAYLOAD;
	tr_begin_batch(L);

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	L->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	L->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (L->sigfd < 0 || L->tfd < 0) {
		r = -errno;
		snprintf(err, errlen, "signalfd/timerfd: %s", strerror(errno));
		tr_ready(c, err);
		goto out;
	}
	{
		struct itimerspec its = { { 0, L->flush_ns }, { 0, L->flush_ns } };

		its.it_interval.tv_sec = L->flush_ns / 1000000000;
		its.it_interval.tv_nsec = L->flush_ns % 1000000000;
		its.it_value = its.it_interval;
		timerfd_settime(L->tfd, 0, &its, NULL);
	}
	if (c->drop)
		fcntl(c->out_fd, F_SETFL, fcntl(c->out_fd, F_GETFL) | O_NONBLOCK);

	if (c->colocate) {
		cpu_set_t set;
		int cpu = sched_getcpu();

		CPU_ZERO(&set);
		CPU_SET(cpu < 0 ? 0 : cpu, &set);
		sched_setaffinity(0, sizeof(set), &set);
		for (int i = 0; i < c->npids && !L->attach; i++)
			sched_setaffinity(c->pids[i], sizeof(set), &set);
	}

	for (int i = 0; i < c->npids; i++) {
		if (L->attach) {
			r = tr_attach_pid(L, c->pids[i]);
		} else {
			r = tr_seize(L, c->pids[i], c->pids[i], 0);
			if (r < 0)
				tr_fail(L, "attach: ptrace(PTRACE_SEIZE, %d): %s", c->pids[i], -r);
		}
		if (r < 0) {
			/* leave what we seized as it was */
			for (unsigned int j = 0; j < L->hsize; j++)
				for (struct tr_task *t = L->hash[j]; t; t = t->hnext)
					ptrace(PTRACE_DETACH, t->tid, 0L, 0L);
			tr_ready(c, err);
			goto out;
		}
	}
	if (L->attach) {
		for (unsigned int j = 0; j < L->hsize; j++)
			for (struct tr_task *t = L->hash[j]; t; t = t->hnext)
				tr_emit_simple(L, TR_REC_ATTACH, t, 0, 0, 0);
	}
	if (!L->plain && L->attach) {
		r = tr_inject_all(L);
		if (r < 0) {
			tr_ready(c, err);
			if (!L->ntasks)
				goto out;
			/* some processes have the filter: they must keep a
			 * tracer; nobody listens */
			L->injected = 1;
			L->consumer_gone = 1;
			r = 0;
			tr_release_held(L);
			tr_passthru_begin(L);
		} else {
			L->injected = 1;
			tr_ready(c, NULL);
			tr_release_held(L);
		}
	} else {
		tr_ready(c, NULL);
	}

	if (c->wait_blocking)
		r = tr_loop_blocking(L);
	int tfd_off = 0;
	while (L->ntasks && !c->wait_blocking) {
		struct pollfd pfd[3] = {
			{ L->sigfd, POLLIN, 0 },
			{ L->tfd, POLLIN, 0 },
			{ c->ctl_fd, POLLIN, 0 },
		};
		int nfds = (c->ctl_fd >= 0 && !L->consumer_gone) ? 3 : 2;

		struct timespec tmo, *tp = NULL;
		int n;

		tr_drain_wait(L);
		if (!L->ntasks)
			break;
		if (L->passthru) {
			struct itimerspec off = { { 0, 0 }, { 0, 0 } };

			if (!tfd_off)
				timerfd_settime(L->tfd, 0, &off, NULL); /* no ticks in pass-through */
			tfd_off = 1;
			pfd[1].fd = -1;
		}
		/* About to block: what we have goes out now -- unless the batch
		 * is younger than the linger time, then we wait at most that
		 * long for the next stop first (a tracee resumed a few us ago
		 * usually stops again before that: one frame per stop would
		 * cost a write and a consumer wake-up per record). */
		if (L->batch_count) {
			int64_t age = L->linger_ns ? tr_now(CLOCK_MONOTONIC) - L->batch_t0 : 0;

			if (age >= L->linger_ns) {
				tr_flush(L);
			} else {
				tmo.tv_sec = 0;
				tmo.tv_nsec = L->linger_ns - age;
				tp = &tmo;
			}
		}
		if (L->consumer_gone && !L->ending)
			tr_end(L);
		n = ppoll(pfd, nfds, tp, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (n == 0) {
			tr_flush(L); /* idle for the linger time */
			continue;
		}
		if (pfd[0].revents) {
			struct signalfd_siginfo ssi[8];

			while (read(L->sigfd, ssi, sizeof(ssi)) > 0)
				;
		}
		if (pfd[1].revents) {
			uint64_t ticks;

			if (read(L->tfd, &ticks, sizeof(ticks)) > 0)
				tr_on_tick(L);
		}
		if (nfds == 3 && pfd[2].revents)
			tr_on_ctl(L);
	}
	if (r < 0)
		snprintf(err, errlen, "wait: %s", strerror(-r));
	tr_split_others(L, NULL);
	L->final = 1;
	tr_flush(L);
	if (L->tail_len && !L->consumer_gone)
		tr_push_tail(L, 1);
out:
	if (c->inject_bpf_len && c->passthru_fd >= 0) {
		close(c->passthru_fd);
		((struct tr_config *)c)->passthru_fd = -1;
	}
	tr_loop_free(L);
	free(L);
	return r < 0 ? r : 0;
}

/* ------------------------------------------------------------------------
 * Golden vectors: one frame of every record type, written by the loop's own
 * emitters with fixed times and ids (tests/vectors/records_all.bin).
 * ---------------------------------------------------------------------- */

static struct tr_task *tr_fake_task(struct tr_loop *L, int tid, int tgid)
{
	struct tr_task *t = calloc(1, sizeof(*t));

	t->tid = tid;
	t->tgid = tgid;
	t->sched_fd = t->mem_fd = -1;
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
