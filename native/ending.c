// SPDX-License-Identifier: MIT
/* ------------------------------------------------------------------------
 * Ending: kill (launch) or detach (attach) every task.
 * ---------------------------------------------------------------------- */

#include "tr_internal.h"

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
	tr_delay_expire(L, 1); /* held threads go on: they must stop again to be detached */
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
void tr_passthru_begin(struct tr_loop *L)
{
	const struct tr_config *c = L->cfg;
	int *seen = calloc(L->ntasks + 1, sizeof(int));
	unsigned int nseen = 0;
	char msg[200];

	L->ending = 1;
	tr_delay_expire(L, 1); /* pass-through holds nobody */
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

void tr_end(struct tr_loop *L)
{
	if (L->ending)
		return;
	if (L->injected || L->cfg->daemonized)
		tr_passthru_begin(L);
	else if (L->attach)
		tr_detach_all(L);
	else
		tr_kill_all(L);
}

void tr_on_ctl(struct tr_loop *L)
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
		if (L->injected || L->cfg->daemonized) {
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
void tr_on_tick(struct tr_loop *L)
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
