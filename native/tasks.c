// SPDX-License-Identifier: MIT
/* ------------------------------------------------------------------------
 * Tasks: a hash of tid -> task, chained, doubled as it fills.
 * ---------------------------------------------------------------------- */

#include "tr_internal.h"

int64_t tr_clock_fixed; /* tr_selftest_frame: deterministic times */

static unsigned int tr_hash(struct tr_loop *L, int tid)
{
	return ((uint32_t)tid * 2654435761u) & (L->hsize - 1);
}

struct tr_task *tr_find(struct tr_loop *L, int tid)
{
	struct tr_task *t = L->hash[tr_hash(L, tid)];

	while (t && t->tid != tid)
		t = t->hnext;
	return t;
}

void tr_hash_insert(struct tr_loop *L, struct tr_task *t)
{
	unsigned int h = tr_hash(L, t->tid);

	t->hnext = L->hash[h];
	L->hash[h] = t;
}

void tr_hash_remove(struct tr_loop *L, struct tr_task *t)
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
 * namespace's), or 0 when the line holds no more than `depth` ids (the task
 * lives in the namespace /proc's reader does: none of its own). */
static int tr_inner_id(const char *q, int depth)
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
	return cnt > depth ? atoi(last) : 0;
}

/* How deep our pid namespace is below /proc's: 1 when /proc is ours; more
 * when we run in a pid namespace without a /proc of its own (`unshare -pf`,
 * as strace's test suite runs it). Read once. */
static int tr_proc_depth(void)
{
	static int depth;
	char buf[2048], *s;
	ssize_t n;
	int fd;

	if (depth)
		return depth;
	depth = 1;
	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return depth;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0) {
		buf[n] = 0;
		s = strstr(buf, "\nNSpid:");
		int cnt = 0;

		for (s = s ? s + 7 : NULL; s && *s && *s != '\n'; s++)
			cnt += (*s < '0' || *s > '9') && s[1] >= '0' && s[1] <= '9';
		if (cnt > 1)
			depth = cnt;
	}
	return depth;
}

/* /proc is not ours: /proc/TID is another process. A pidfd's fdinfo (tid
 * as we number it) holds the task's ids down from /proc's namespace. Only
 * a thread-group leader has a pidfd on kernels before 6.9: a thread's ids
 * stay unknown (printed untranslated). */
static void tr_read_nspid_pidfd(struct tr_task *t, int depth)
{
	char path[64], buf[512], *s;
	int pfd, fd, id;
	ssize_t n;

	pfd = (int)syscall(SYS_pidfd_open, t->tid, 0);
	if (pfd < 0)
		return;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pfd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	close(pfd);
	if (n <= 0)
		return;
	buf[n] = 0;
	s = strstr(buf, "\nNSpid:");
	if (s && (id = tr_inner_id(s + 7, depth)))
		t->ns_tid = t->ns_tgid = id;
}

/* Tgid and the innermost pid-namespace ids from /proc/TID/status. */
static void tr_read_status(struct tr_task *t)
{
	char path[64], buf[2048], *s;
	int fd, depth = tr_proc_depth();
	ssize_t n;

	if (depth > 1) {
		tr_read_nspid_pidfd(t, depth);
		return;
	}
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
	if (s && (n = tr_inner_id(s + 8, 1)))
		t->ns_tgid = n;
	s = strstr(buf, "\nNSpid:");
	if (s && (n = tr_inner_id(s + 7, 1)))
		t->ns_tid = n;
}

struct tr_task *tr_task_new(struct tr_loop *L, int tid, int tgid)
{
	struct tr_task *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->tid = tid;
	t->tgid = tgid;
	t->sched_fd = -1;
	t->mem_fd = -1;
	t->fd_dir = -1;
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

void tr_pending_del(struct tr_task *t)
{
	if (t->pnext) {
		t->pnext->pprev = t->pprev;
		t->pprev->pnext = t->pnext;
		t->pnext = t->pprev = NULL;
	}
}

void tr_pending_add(struct tr_loop *L, struct tr_task *t)
{
	struct tr_task *h = &L->pending;

	t->pprev = h->pprev;
	t->pnext = h;
	h->pprev->pnext = t;
	h->pprev = t;
}

/* What a task holds of its own: its fds, buffers and unwinder, then itself. */
void tr_task_release(struct tr_task *t)
{
	if (t->sched_fd >= 0)
		close(t->sched_fd);
	if (t->mem_fd >= 0)
		close(t->mem_fd);
	if (t->fd_dir >= 0)
		close(t->fd_dir);
	free(t->mem.p);
	tr_unwind_free(t);
	free(t);
}

void tr_task_free(struct tr_loop *L, struct tr_task *t)
{
	tr_pending_del(t);
	tr_tamper_forget(L, t);
	tr_hash_remove(L, t);
	tr_task_release(t);
	L->ntasks--;
}
