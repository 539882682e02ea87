// SPDX-License-Identifier: MIT
/*
 * The exec catcher: answers fanotify exec permission events for the
 * daemon's standing rules (docs/rules.md).
 *
 * It runs in a process of its own (a thread of the daemon would stop with it
 * under SIGSTOP, a debugger or the OOM reaper's freeze), single-threaded, and
 * never blocks: the fanotify fd and the daemon's socket are non-blocking and
 * polled, and every held exec has a deadline after which it is allowed,
 * answered by the daemon or not. A stuck daemon therefore delays a matched
 * exec by at most hold_ms and never freezes the host's execs; an exec no
 * rule matches is answered at once. Closing the fanotify fd (this process
 * exiting, however) makes the kernel allow whatever is still pending.
 *
 * Per event: the rules are checked, the cheapest looks first (an exec no
 * rule matches is answered after the fewest reads of /proc); for a match,
 * the daemon's own execs and its children's (workers, helpers) pass at
 * once, so do processes already traced (a rule's children are followed by
 * their tracer). A match is held only
 * at the exec's first event, the main file's: the path passed to execve(2)
 * (read from the process, which is still in the old image) must name the
 * file being opened. The events of the interpreters an exec opens next
 * (ld.so, a #! interpreter) come while exec holds cred_guard_mutex, where
 * PTRACE_SEIZE would block until we answered: those pass at once.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "catcher.h"

#define TC_NR_EXECVE 59 /* x86-64 */
#define TC_NR_EXECVEAT 322
#define TC_CAP_SYS_ADMIN 21
#define TC_STATS_NS 1000000000LL

struct tc_pending {
	unsigned int token;
	int fd; /* -1: free */
	int pid;
	long long deadline;
};

struct tc_proc {
	int pid;
	int have_status; /* -1: unreadable (gone) */
	int ppid;
	int tracer;
	int uid;
	unsigned long long capeff;
	int have_cgroup;
	char cgroup[TC_CGROUP_LEN];
	int have_path;
	char path[TC_PATH_MAX];
};

struct tc_state {
	const struct tc_config *cfg;
	struct tc_stats *st;
	struct tc_pending pend[TC_PENDING_MAX];
	int npend;
	unsigned int next_token;
};

static long long tc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int tc_init(void)
{
	int fd = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY | O_LARGEFILE | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int tc_mark(int fan_fd, const char *path, int kind)
{
	unsigned int flags = FAN_MARK_ADD | (kind == TC_MARK_FILESYSTEM ? FAN_MARK_FILESYSTEM : 0);

	if (fanotify_mark(fan_fd, flags, FAN_OPEN_EXEC_PERM, AT_FDCWD, path) < 0)
		return -errno;
	return 0;
}

static void tc_respond(int fan_fd, int fd, unsigned int verdict)
{
	struct fanotify_response r = { .fd = fd, .response = verdict };

	/* the fanotify fd is non-blocking; a write of a response never waits */
	if (write(fan_fd, &r, sizeof(r)) < 0) {
		/* nothing to do: the kernel allows it when the group goes */
	}
	close(fd);
}

static ssize_t tc_read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return n;
}

static long tc_field(const char *status, const char *name)
{
	const char *p = strstr(status, name);

	if (!p)
		return -1;
	return strtol(p + strlen(name), NULL, 10);
}

/* /proc/PID/status, read once and only when a rule needs it: it is the
 * dearest look at a process (tens of us), and most execs need none. */
static int tc_read_status(struct tc_proc *p)
{
	char path[64], buf[4096];
	const char *c;

	if (p->have_status)
		return p->have_status < 0 ? -1 : 0;
	p->have_status = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", p->pid);
	if (tc_read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	p->ppid = (int)tc_field(buf, "\nPPid:\t");
	p->tracer = (int)tc_field(buf, "\nTracerPid:\t");
	p->uid = (int)tc_field(buf, "\nUid:\t");
	c = strstr(buf, "\nCapEff:\t");
	p->capeff = c ? strtoull(c + 9, NULL, 16) : 0;
	p->have_status = 1;
	return 0;
}

static const char *tc_cgroup(struct tc_proc *p)
{
	char path[64], buf[TC_CGROUP_LEN + 64];
	char *c, *nl;

	if (p->have_cgroup)
		return p->cgroup;
	p->have_cgroup = 1;
	p->cgroup[0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", p->pid);
	if (tc_read_file(path, buf, sizeof(buf)) < 0)
		return p->cgroup;
	/* cgroup v2: the line "0::/path" */
	c = strstr(buf, "0::");
	if (c && (c == buf || c[-1] == '\n')) {
		c += 3;
		nl = strchr(c, '\n');
		if (nl)
			*nl = 0;
		snprintf(p->cgroup, sizeof(p->cgroup), "%s", c);
	}
	return p->cgroup;
}

/* The path the process passed to execve/execveat, read from its (old) image.
 * Empty when it cannot be read (another ABI, a vanished process). */
static const char *tc_exec_path(struct tc_proc *p, int *dirfd_out)
{
	char path[64], buf[512];
	unsigned long long a[6] = { 0 };
	long nr;
	unsigned long long addr;
	struct iovec local, remote;
	ssize_t n;

	*dirfd_out = AT_FDCWD;
	if (p->have_path)
		return p->path;
	p->have_path = 1;
	p->path[0] = 0;
	/* Reading /proc/PID/syscall waits until the task is off its CPU, and
	 * sleeps a whole tick when it is still queued there. Woken on the
	 * exec'ing task's CPU, we usually preempted it just before it went to
	 * sleep in the permission wait: give the CPU back first, once. */
	sched_yield();
	snprintf(path, sizeof(path), "/proc/%d/syscall", p->pid);
	if (tc_read_file(path, buf, sizeof(buf)) < 0)
		return p->path;
	if (sscanf(buf, "%ld %llx %llx %llx %llx %llx %llx", &nr, &a[0], &a[1], &a[2], &a[3], &a[4], &a[5]) < 3)
		return p->path;
	if (nr == TC_NR_EXECVE) {
		addr = a[0];
	} else if (nr == TC_NR_EXECVEAT) {
		*dirfd_out = (int)a[0];
		addr = a[1];
	} else {
		return p->path;
	}
	local.iov_base = p->path;
	local.iov_len = sizeof(p->path) - 1;
	remote.iov_base = (void *)(uintptr_t)addr;
	remote.iov_len = sizeof(p->path) - 1;
	n = process_vm_readv(p->pid, &local, 1, &remote, 1, 0);
	if (n <= 0) {
		/* the string may end near a page boundary: retry short */
		remote.iov_len = local.iov_len = 4096 - (addr & 4095);
		if (remote.iov_len > sizeof(p->path) - 1)
			remote.iov_len = local.iov_len = sizeof(p->path) - 1;
		n = process_vm_readv(p->pid, &local, 1, &remote, 1, 0);
	}
	if (n <= 0) {
		p->path[0] = 0;
		return p->path;
	}
	p->path[n] = 0;
	p->path[strnlen(p->path, n)] = 0;
	return p->path;
}

/* Is this event the exec's main file (the path passed to execve)? */
static int tc_is_main(struct tc_proc *p, int fd)
{
	int dirfd_arg, dfd = -1, r = 0;
	const char *path = tc_exec_path(p, &dirfd_arg);
	char dir[64];
	struct stat a, b;

	if (!path[0] || fstat(fd, &a) < 0)
		return 0;
	if (path[0] == '/') {
		snprintf(dir, sizeof(dir), "/proc/%d/root", p->pid);
		dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		path++;
	} else if (dirfd_arg == AT_FDCWD) {
		snprintf(dir, sizeof(dir), "/proc/%d/cwd", p->pid);
		dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	} else {
		snprintf(dir, sizeof(dir), "/proc/%d/fd/%d", p->pid, dirfd_arg);
		dfd = open(dir, O_PATH | O_CLOEXEC);
	}
	if (dfd < 0)
		return 0;
	if (fstatat(dfd, path, &b, path[0] ? 0 : AT_EMPTY_PATH) == 0)
		r = a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	close(dfd);
	return r;
}

static int tc_component(const char *cg, const char *unit)
{
	size_t n = strlen(unit);
	const char *c = cg;

	while ((c = strstr(c, unit))) {
		if (c > cg && c[-1] == '/' && (c[n] == '/' || c[n] == 0))
			return 1;
		c++;
	}
	return 0;
}

static int tc_match(const struct tc_rule *r, struct tc_proc *p, int fd, const struct stat *fst)
{
	/* cheapest first: the file's identity, the path passed, the cgroup
	 * file, the status */
	if (r->has_exe && (fst->st_dev != r->dev || fst->st_ino != r->ino))
		return 0;
	if (r->comm[0]) {
		int dfd;
		const char *path = tc_exec_path(p, &dfd), *base = strrchr(path, '/');
		char comm[TC_COMM_LEN];

		snprintf(comm, sizeof(comm), "%s", base ? base + 1 : path);
		if (strcmp(comm, r->comm) != 0)
			return 0;
	}
	if (r->cgroup[0] && strncmp(tc_cgroup(p), r->cgroup, strlen(r->cgroup)) != 0)
		return 0;
	if (r->unit[0] && !tc_component(tc_cgroup(p), r->unit))
		return 0;
	if (r->uid >= 0 && (tc_read_status(p) < 0 || p->uid != r->uid))
		return 0;
	(void)fd;
	return 1;
}

static int tc_hold(struct tc_state *S, int fd, struct tc_proc *p, int rule)
{
	const struct tc_config *c = S->cfg;
	char msg[sizeof(struct tc_note) + TC_PATH_MAX];
	struct tc_note *n = (struct tc_note *)msg;
	int dfd, slot = -1;
	const char *path = tc_exec_path(p, &dfd);
	size_t plen = strlen(path);

	for (int i = 0; i < TC_PENDING_MAX; i++)
		if (S->pend[i].fd < 0) {
			slot = i;
			break;
		}
	if (slot < 0)
		return -1;
	if (++S->next_token == 0)
		S->next_token = 1;
	n->token = S->next_token;
	n->pid = p->pid;
	n->rule = rule;
	n->uid = p->uid;
	n->flags = (p->capeff >> TC_CAP_SYS_ADMIN) & 1 ? TC_NOTE_ADMIN : 0;
	memcpy(msg + sizeof(*n), path, plen);
	/* never wait for the daemon: a full socket means it is behind */
	if (send(c->ctl_fd, msg, sizeof(*n) + plen, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		return -1;
	S->pend[slot].token = n->token;
	S->pend[slot].fd = fd;
	S->pend[slot].pid = p->pid;
	S->pend[slot].deadline = tc_now() + (long long)c->hold_ms * 1000000LL;
	S->npend++;
	S->st->matched++;
	return 0;
}

static void tc_event(struct tc_state *S, const struct fanotify_event_metadata *m)
{
	const struct tc_config *c = S->cfg;
	struct tc_proc p = { .pid = m->pid };
	struct stat fst;
	int rule = -1;

	S->st->events++;
	if (m->pid == c->daemon_pid) {
		S->st->own++;
		goto allow;
	}
	if (fstat(m->fd, &fst) < 0)
		goto allow;
	/* the rules first (cheapest looks first: the file, then the path
	 * passed; the status only for uid rules), then, for a match only, whose
	 * exec it is: an exec no rule matches costs no read of its status */
	for (int i = 0; i < c->nrules && rule < 0; i++)
		if (tc_match(&c->rules[i], &p, m->fd, &fst))
			rule = c->rules[i].id;
	if (rule < 0)
		goto allow;
	if (tc_read_status(&p) < 0)
		goto allow;
	if (p.ppid == c->daemon_pid) {
		S->st->own++;
		goto allow;
	}
	if (p.tracer > 0) {
		S->st->traced++;
		goto allow;
	}
	if (!tc_is_main(&p, m->fd)) {
		S->st->interp++;
		goto allow;
	}
	if (tc_hold(S, m->fd, &p, rule) == 0)
		return;
	S->st->refused_notes++;
allow:
	tc_respond(c->fan_fd, m->fd, FAN_ALLOW);
}

static void tc_read_events(struct tc_state *S)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct fanotify_event_metadata))));

	for (;;) {
		ssize_t len = read(S->cfg->fan_fd, buf, sizeof(buf));
		const struct fanotify_event_metadata *m = (const void *)buf;

		if (len <= 0)
			return;
		for (; FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len)) {
			if (m->vers != FANOTIFY_METADATA_VERSION || m->fd < 0)
				continue;
			if (m->mask & FAN_OPEN_EXEC_PERM)
				tc_event(S, m);
			else
				close(m->fd);
		}
	}
}

static void tc_release(struct tc_state *S, int i)
{
	tc_respond(S->cfg->fan_fd, S->pend[i].fd, FAN_ALLOW);
	S->pend[i].fd = -1;
	S->npend--;
}

/* returns 0, or 1 at EOF */
static int tc_read_answers(struct tc_state *S)
{
	struct tc_answer a;

	for (;;) {
		ssize_t n = recv(S->cfg->ctl_fd, &a, sizeof(a), MSG_DONTWAIT);

		if (n == 0)
			return 1;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : 1;
		if (n != sizeof(a) || a.op != TC_OP_ALLOW)
			continue;
		for (int i = 0; i < TC_PENDING_MAX; i++)
			if (S->pend[i].fd >= 0 && S->pend[i].token == a.token) {
				S->st->answered++;
				tc_release(S, i);
				break;
			}
	}
}

static void tc_send_stats(struct tc_state *S)
{
	char msg[sizeof(struct tc_note) + sizeof(struct tc_stats)];
	struct tc_note n = { 0 };

	memcpy(msg, &n, sizeof(n));
	memcpy(msg + sizeof(n), S->st, sizeof(*S->st));
	send(S->cfg->ctl_fd, msg, sizeof(msg), MSG_DONTWAIT | MSG_NOSIGNAL);
}

int tc_run(const struct tc_config *cfg, struct tc_stats *st, char *err, size_t errlen)
{
	static struct tc_state S;
	long long next_stats = tc_now() + TC_STATS_NS;
	unsigned long long sent = 0; /* matched + answered + timeouts at the last report */

	memset(&S, 0, sizeof(S));
	S.cfg = cfg;
	S.st = st;
	for (int i = 0; i < TC_PENDING_MAX; i++)
		S.pend[i].fd = -1;
	if (cfg->hold_ms <= 0) {
		snprintf(err, errlen, "hold_ms must be positive");
		return -EINVAL;
	}
	for (;;) {
		struct pollfd pfd[2] = { { cfg->fan_fd, POLLIN, 0 }, { cfg->ctl_fd, POLLIN, 0 } };
		long long now = tc_now(), next = next_stats;
		int timeout;

		for (int i = 0; i < TC_PENDING_MAX && S.npend; i++) {
			if (S.pend[i].fd < 0)
				continue;
			if (S.pend[i].deadline <= now) {
				st->timeouts++;
				tc_release(&S, i);
			} else if (S.pend[i].deadline < next) {
				next = S.pend[i].deadline;
			}
		}
		/* a held exec's fate is reported at once, the rest once a second */
		if (now >= next_stats || st->matched + st->answered + st->timeouts != sent) {
			sent = st->matched + st->answered + st->timeouts;
			tc_send_stats(&S);
			next_stats = now + TC_STATS_NS;
			if (next_stats < next || next <= now)
				next = next_stats;
		}
		timeout = next > now ? (int)((next - now + 999999) / 1000000) : 0;
		if (poll(pfd, 2, timeout) < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "catcher: poll: %s", strerror(errno));
			return -errno;
		}
		if (pfd[0].revents & POLLIN)
			tc_read_events(&S);
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))
			if (tc_read_answers(&S))
				break;
	}
	for (int i = 0; i < TC_PENDING_MAX; i++)
		if (S.pend[i].fd >= 0)
			tc_release(&S, i);
	return 0;
}
