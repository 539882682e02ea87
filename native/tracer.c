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
#include "tr_internal.h"

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

/* Threads are held (tamper.c): drain the stops that are there, then sleep
 * on the SIGCHLD signalfd until a stop comes, the earliest held thread is
 * due or a tick (SIGALRM) breaks the sleep. SIGCHLD stays blocked: one that
 * comes between the drain and ppoll makes ppoll return at once. */
static void tr_delay_wait(struct tr_loop *L)
{
	struct pollfd pfd = { L->sigfd, POLLIN, 0 };
	struct timespec tmo;
	int64_t left;

	tr_drain_wait(L);
	tr_delay_expire(L, 0);
	left = tr_delay_left(L);
	if (left < 0 || !L->ntasks)
		return;
	tmo.tv_sec = left / 1000000000;
	tmo.tv_nsec = left % 1000000000;
	if (ppoll(&pfd, 1, &tmo, NULL) > 0) {
		struct signalfd_siginfo ssi[8];

		while (read(L->sigfd, ssi, sizeof(ssi)) > 0)
			;
	}
	tr_delay_expire(L, 0);
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
		if (L->delayed) {
			/* threads held by delay_enter=/delay_exit=: wait for
			 * SIGCHLD (blocked, so none is missed) or the earliest
			 * wake-up, whichever comes first (tamper.c) */
			tr_delay_wait(L);
			continue;
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

void tr_loop_free(struct tr_loop *L)
{
	for (unsigned int i = 0; L->hash && i < L->hsize; i++) {
		struct tr_task *t = L->hash[i], *n;

		for (; t; t = n) {
			n = t->hnext;
			tr_task_release(t);
		}
	}
	free(L->hash);
	free(L->out.p);
	free(L->scratch.p);
	free(L->rd);
	free(L->tail);
	free(L->ghosts);
	tr_plan_free(&L->plan);
	tr_sockdiag_free(L);
	if (L->sigfd >= 0)
		close(L->sigfd);
	if (L->tfd >= 0)
		close(L->tfd);
}

/* A loop for one run: the config's values, nothing allocated yet. */
static void tr_loop_init(struct tr_loop *L, const struct tr_config *c, struct tr_stats *st, char *err, size_t errlen)
{
	L->cfg = c;
	L->st = st;
	L->err = err;
	L->errlen = errlen;
	L->sigfd = L->tfd = -1;
	L->attach = c->mode == TR_MODE_ATTACH;
	L->plain = L->attach ? !c->inject_bpf_len : c->no_follow;
	L->tamper_live = L->attach; /* run: from the command's first execve on */
	L->pending.pnext = L->pending.pprev = &L->pending;
	L->flush_ns = (int64_t)(c->flush_ms > 0 ? c->flush_ms : 20) * 1000000;
	L->linger_ns = c->linger_us > 0 ? (int64_t)c->linger_us * 1000 : 0;
	if (L->linger_ns > L->flush_ns)
		L->linger_ns = L->flush_ns;
	memset(st, 0, sizeof(*st));
	st->root_status = -1;
}

/* The filter to inject and the fetch plan, checked before anything is
 * touched. 0, or -errno with the message in L->err. */
static int tr_loop_config(struct tr_loop *L)
{
	const struct tr_config *c = L->cfg;
	int r;

	if (c->inject_bpf_len && (!L->attach || c->inject_bpf_len % 8 || c->inject_bpf_len / 8 > 4096)) {
		snprintf(L->err, L->errlen,
			 L->attach ? "invalid seccomp filter to inject" : "a filter is injected in attach mode only");
		return -EINVAL;
	}
	if (!L->plain && L->attach)
		signal(SIGHUP, SIG_IGN); /* a terminal's hangup must not end the tracer of a filtered process */
	if (c->daemonized) {
		/* -D: a signal for the command's group or session is not for us;
		 * the consumer's end makes us pass-through (tr_end) */
		signal(SIGHUP, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
	}
	r = tr_plan_parse(&L->plan, c->plan, c->plan_len);
	if (r < 0)
		snprintf(L->err, L->errlen, "invalid fetch plan");
	return r;
}

/* Run the tracer on the tracees' CPU (--colocate): a stop then costs no
 * cross-CPU wake-up. */
static void tr_colocate(struct tr_loop *L)
{
	const struct tr_config *c = L->cfg;
	cpu_set_t set;
	int cpu = sched_getcpu();

	CPU_ZERO(&set);
	CPU_SET(cpu < 0 ? 0 : cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	for (int i = 0; i < c->pids_len && !L->attach; i++)
		sched_setaffinity(c->pids[i], sizeof(set), &set);
}

/* The task table, the frame buffer, and what wakes the loop (SIGCHLD as a
 * signalfd, the flush timer). 0, or -errno with the message in L->err. */
static int tr_loop_open(struct tr_loop *L)
{
	const struct tr_config *c = L->cfg;
	sigset_t mask;
	int r;

	L->hsize = 256;
	L->hash = calloc(L->hsize, sizeof(*L->hash));
	L->out.cap = TR_FRAME_HEADER_SIZE + TR_FRAME_MAX_PAYLOAD;
	L->out.p = malloc(L->out.cap);
	if (!L->hash || !L->out.p) {
		snprintf(L->err, L->errlen, "out of memory");
		return -ENOMEM;
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
		snprintf(L->err, L->errlen, "signalfd/timerfd: %s", strerror(errno));
		return r;
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
	if (c->colocate)
		tr_colocate(L);
	return 0;
}

/* Seize every pid of the config: with all its threads (attach), or the
 * launched child. 0, or -errno with the message in L->err, after leaving
 * what was seized as it was. */
static int tr_seize_all(struct tr_loop *L)
{
	const struct tr_config *c = L->cfg;
	int r;

	for (int i = 0; i < c->pids_len; i++) {
		if (L->attach) {
			r = tr_attach_pid(L, c->pids[i]);
		} else {
			/* no_follow: no filter stops it, so it is interrupted
			 * and resumed with PTRACE_SYSCALL from its first stop */
			r = tr_seize(L, c->pids[i], c->pids[i], c->no_follow);
			if (r < 0)
				tr_fail(L, "attach: ptrace(PTRACE_SEIZE, %d): %s", c->pids[i], -r);
		}
		if (r < 0) {
			for (unsigned int j = 0; j < L->hsize; j++)
				for (struct tr_task *t = L->hash[j]; t; t = t->hnext)
					ptrace(PTRACE_DETACH, t->tid, 0L, 0L);
			return r;
		}
	}
	return 0;
}

/* Everything is seized: ATTACH records (attach), the filter injected
 * (attach --seccomp-bpf), start-up reported on ready_fd. 0, or -errno when
 * nothing is left to trace. */
static int tr_start(struct tr_loop *L)
{
	const struct tr_config *c = L->cfg;
	int r;

	if (L->attach) {
		for (unsigned int j = 0; j < L->hsize; j++)
			for (struct tr_task *t = L->hash[j]; t; t = t->hnext)
				tr_emit_simple(L, TR_REC_ATTACH, t, 0, 0, 0);
	}
	if (L->plain || !L->attach) {
		tr_ready(c, NULL);
		return 0;
	}
	r = tr_inject_all(L);
	if (r < 0) {
		tr_ready(c, L->err);
		if (!L->ntasks)
			return r;
		/* some processes have the filter: they must keep a
		 * tracer; nobody listens */
		L->injected = 1;
		L->consumer_gone = 1;
		tr_release_held(L);
		tr_passthru_begin(L);
		return 0;
	}
	L->injected = 1;
	tr_ready(c, NULL);
	tr_release_held(L);
	return 0;
}

/* The default way to wait: ppoll on SIGCHLD (signalfd), the flush timer
 * and the control fd, draining wait4 after each wake-up. 0, or -errno. */
static int tr_loop_poll(struct tr_loop *L)
{
	const struct tr_config *c = L->cfg;
	int tfd_off = 0;

	while (L->ntasks) {
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
		if (L->delayed) {
			/* tamper.c: wake for the earliest held thread */
			int64_t left = tr_delay_left(L);

			if (left >= 0 && (!tp || left < tmo.tv_sec * 1000000000LL + tmo.tv_nsec)) {
				tmo.tv_sec = left / 1000000000;
				tmo.tv_nsec = left % 1000000000;
				tp = &tmo;
			}
		}
		n = ppoll(pfd, nfds, tp, NULL);
		if (L->delayed)
			tr_delay_expire(L, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
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
	return 0;
}

int tr_run(const struct tr_config *c, struct tr_stats *st, char *err, size_t errlen)
{
	struct tr_loop *L;
	int r;

	L = calloc(1, sizeof(*L));
	if (!L)
		return -ENOMEM;
	tr_loop_init(L, c, st, err, errlen);
	r = tr_loop_config(L);
	if (r < 0) {
		tr_ready(c, err);
		free(L);
		return r;
	}
	r = tr_loop_open(L);
	if (r == 0)
		r = tr_seize_all(L);
	if (r < 0) {
		tr_ready(c, err);
		goto out;
	}
	r = tr_start(L);
	if (r < 0)
		goto out;

	r = c->wait == TR_WAIT_BLOCKING ? tr_loop_blocking(L) : tr_loop_poll(L);
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
