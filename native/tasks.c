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

#define TR_NS_LEVELS 33 /* pid namespaces nest 32 deep at most, below /proc's */

/* The ids on an NSpid:/NStgid: line, /proc's pid namespace's first, then
 * each one below it down to the task's own; their count. */
static int tr_ns_ids(const char *q, int *ids)
{
	const char *e = strchr(q, '\n');
	int cnt = 0;

	while ((!e || q < e) && cnt < TR_NS_LEVELS) {
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q < '0' || *q > '9')
			break;
		ids[cnt++] = atoi(q);
		while (*q >= '0' && *q <= '9')
			q++;
	}
	return cnt;
}

/* The ids on the `key` line ("\nNSpid:", "\nNStgid:") of the /proc text
 * file at path, into ids (two keys: into ids and ids2); the count of each
 * (0: the file or the line is missing). */
static int tr_proc_ids(const char *path, const char *key, int *ids, const char *key2, int *ids2, int *n2)
{
	char buf[2048], *s;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), cnt = 0;

	if (n2)
		*n2 = 0;
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	s = strstr(buf, key);
	if (s)
		cnt = tr_ns_ids(s + strlen(key), ids);
	if (key2 && (s = strstr(buf, key2)))
		*n2 = tr_ns_ids(s + strlen(key2), ids2);
	return cnt;
}

/* Where our pid namespace is on /proc's NSpid lines: 0 when /proc is ours;
 * more when we run in a pid namespace without a /proc of its own
 * (`unshare -pf`, as strace's test suite runs it). Read once. */
static int tr_proc_level(void)
{
	static int level = -1;
	int ids[TR_NS_LEVELS], n;

	if (level >= 0)
		return level;
	n = tr_proc_ids("/proc/self/status", "\nNSpid:", ids, NULL, NULL, NULL);
	level = n > 1 ? n - 1 : 0;
	return level;
}

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL /* linux/pidfd.h, 6.9: a pidfd of a thread */
#endif

/* The task's number in /proc's pid namespace. When /proc is not ours, /proc/TID
 * is another process: a pidfd's fdinfo (tid as we number it) holds the
 * task's ids from /proc's namespace down. A thread has a pidfd since 6.9
 * (PIDFD_THREAD); before, only a thread-group leader: 0 for a thread. */
static int tr_proc_tid(int tid, int level)
{
	char path[64];
	int ids[TR_NS_LEVELS], pfd, n;

	if (!level)
		return tid;
	pfd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
	if (pfd < 0 && errno == EINVAL)
		pfd = (int)syscall(SYS_pidfd_open, tid, 0);
	if (pfd < 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pfd);
	n = tr_proc_ids(path, "\nNSpid:", ids, NULL, NULL, NULL);
	close(pfd);
	/* the id at our level must be the task's: the pidfd names it */
	if (n <= level || ids[level] != tid)
		return 0;
	return ids[0];
}

/* A task's ids from /proc/P/status (P: its number in /proc's namespace):
 * its tgid as we number it, and as the records number them (xtid, xtgid:
 * `pid_level` below ours) and as its own namespace does (ns_tid, ns_tgid,
 * when deeper than the records' one). */
static void tr_read_status(struct tr_loop *L, struct tr_task *t)
{
	char path[64];
	int pid[TR_NS_LEVELS], tg[TR_NS_LEVELS], np, ntg;
	int level = tr_proc_level(), x = level + (L->cfg ? L->cfg->pid_level : 0);
	int p = tr_proc_tid(t->tid, level);

	t->ptid = p;
	if (!p)
		return;
	snprintf(path, sizeof(path), "/proc/%d/status", p);
	np = tr_proc_ids(path, "\nNSpid:", pid, "\nNStgid:", tg, &ntg);
	if (np <= level || pid[level] != t->tid)
		return; /* another task now (or never ours) */
	if (ntg > level)
		t->tgid = tg[level];
	if (np > x)
		t->xtid = pid[x];
	if (ntg > x)
		t->xtgid = tg[x];
	if (np - 1 > x)
		t->ns_tid = pid[np - 1];
	if (ntg - 1 > x)
		t->ns_tgid = tg[ntg - 1];
}

/* A task /proc numbers `p`, as we number it (0: not one of our namespace's). */
int tr_our_tid(int p)
{
	char path[64];
	int ids[TR_NS_LEVELS], level = tr_proc_level();

	if (!level || p <= 0)
		return p;
	snprintf(path, sizeof(path), "/proc/%d/status", p);
	return tr_proc_ids(path, "\nNSpid:", ids, NULL, NULL, NULL) > level ? ids[level] : 0;
}

/* `tid` (ours) as the records name it: 0 when it cannot be told. */
int tr_xid(struct tr_loop *L, int tid)
{
	struct tr_task *t = tr_find(L, tid), tmp;

	if (t)
		return t->xtid;
	if (!L->cfg || !L->cfg->pid_level)
		return tid;
	memset(&tmp, 0, sizeof(tmp));
	tmp.tid = tid;
	tr_read_status(L, &tmp);
	return tmp.xtid;
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
	tr_read_status(L, t);
	if (!t->tgid)
		t->tgid = tid;
	if (!L->cfg || !L->cfg->pid_level) {
		/* the records number tasks as we do */
		if (!t->xtid)
			t->xtid = tid;
		if (!t->xtgid)
			t->xtgid = t->tgid;
	}
	else if (!t->xtgid && t->tgid != tid) {
		struct tr_task *lead = tr_find(L, t->tgid);

		if (lead)
			t->xtgid = lead->xtid;
	}
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
