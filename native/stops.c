// SPDX-License-Identifier: MIT
/* ------------------------------------------------------------------------
 * Stops.
 * ---------------------------------------------------------------------- */

#include "tr_internal.h"

#include <poll.h>

/* Sync mode (cfg->ack_fd): every record made so far goes out, and the
 * loop waits until the consumer says it printed them, so the tracee's own
 * output that follows cannot overtake its trace lines. A consumer that
 * goes away (EOF, error) ends the waiting for good. */
static void tr_sync(struct tr_loop *L)
{
	uint64_t want, got;
	unsigned char b[8];
	size_t have = 0;
	ssize_t n;

	if (!L->sync_on) {
		/* before the command's exec the consumer may be waiting for that
		 * exec itself (its launcher reports it), so the loop waits for it
		 * only once it has acked or the exec has happened: from the first
		 * stop after the exec on, every line is printed before the
		 * tracee runs on (waiting for the first ack instead let a short
		 * program run unheld while the consumer was slow to start) */
		struct pollfd p = { .fd = L->cfg->ack_fd, .events = POLLIN };

		if (!L->execd && poll(&p, 1, 0) <= 0)
			return;
		L->sync_on = 1;
	}
	if (L->batch_count)
		tr_flush(L);
	want = L->seq;
	while (L->acked < want && !L->consumer_gone && TR_SYNC(L)) {
		n = read(L->cfg->ack_fd, b + have, sizeof b - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			L->consumer_gone = 1;
			break;
		}
		have += (size_t)n;
		if (have < sizeof b)
			continue;
		have = 0;
		got = 0;
		for (int i = 7; i >= 0; i--)
			got = (got << 8) | b[i];
		if (got > L->acked)
			L->acked = got;
	}
}

void tr_resume(struct tr_loop *L, struct tr_task *t, int sig)
{
	int req = (L->plain || (t->flags & T_WANT_EXIT)) ? PTRACE_SYSCALL : PTRACE_CONT;

	if (TR_SYNC(L))
		tr_sync(L);
	ptrace(req, t->tid, 0L, (long)sig);
	tr_stop_done(L);
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

static int tr_entry_line(struct tr_loop *L, struct tr_task *t)
{
	uint64_t key = ((uint64_t)t->pers << 32) | t->nr;

	for (int i = 0; i < L->cfg->entry_lines_len; i++)
		if (L->cfg->entry_lines[i] == key)
			return 1;
	return 0;
}

static void tr_on_entry(struct tr_loop *L, struct tr_task *t, struct tr_sysinfo *si, int seccomp)
{
	struct tr_pentry *pe;
	int entry_line;
	uint64_t nr = seccomp ? si->seccomp.nr : si->entry.nr;
	int pers = tr_pers_of(si->arch, nr);
	uint16_t ef;

	pe = tr_plan_lookup(&L->plan, pers, (uint32_t)nr);
	if (L->plan.flags & TR_PF_STACK) {
		if (tr_unwind_maps_call(pers, (uint32_t)nr))
			L->uw_gen++; /* -k: the module cache is read again */
		if (seccomp && !pe) {
			/* stopped for the cache alone (bpfgen adds these calls
			 * with -k): no record */
			t->flags &= ~T_WANT_EXIT;
			tr_resume(L, t, 0);
			return;
		}
	}
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
	if (tr_tamper_entry(L, t, pe, si)) { /* -e inject=: before the fetch sees a poke */
		t->flags &= ~T_INSYS; /* skipped, to be made again: no record */
		t->flags |= T_WANT_EXIT;
		tr_resume(L, t, 0);
		return;
	}
	if (pe && (ef & TR_EF_FETCH_ENTRY))
		t->mem_n = tr_fetch(L, t, pe, 0, &t->mem, 0);
	if (L->plan.flags & TR_PF_STACK) {
		/* -k: the same frames as at its exit; the command's own execve
		 * is unwound at its exec event instead (its entry is in our
		 * launcher, which strace never traced) */
		if (L->tamper_live || !tr_unwind_on_enter(pers, (uint32_t)nr))
			tr_unwind(L, t, tr_unwind_on_enter(pers, (uint32_t)nr));
		else
			t->stk_n = t->stk_len = 0;
	}
	t->has_cpu = 0;
	if (L->plan.flags & TR_PF_CPU_TIME) {
		int64_t c = tr_cpu(t);

		if (c >= 0) {
			t->cpu_entry = c;
			t->has_cpu = 1;
		}
	}
	if (!L->plain && !(ef & TR_EF_EXIT) && !tr_tamper_wants_exit(t)) {
		t->flags &= ~T_WANT_EXIT;
		if (TR_SYNC(L)) {
			/* sync: the line before the call runs (exit_group's) */
			tr_emit_call(L, t, 0, 0, 0, 0, NULL, 0, -1, TR_SF_NO_EXIT);
			tr_resume(L, t, 0);
			return;
		}
		tr_resume(L, t, 0);
		tr_emit_call(L, t, 0, 0, 0, 0, NULL, 0, -1, TR_SF_NO_EXIT);
		return;
	}
	t->flags |= T_WANT_EXIT;
	t->mono_entry = tr_stop_now(L);
	entry_line = TR_SYNC(L) && tr_entry_line(L, t);
	if (entry_line)
		tr_emit_entry(L, t); /* printed before the call runs (tr_resume waits) */
	if (t->trule) {
		/* a syscall-enter-stop carries signal= as strace sends it; a
		 * seccomp stop cannot: the exit's resume does (tamper.c) */
		int sig = L->plain ? t->tsig : 0;

		if (L->plain)
			t->tsig = 0;
		tr_tamper_resume(L, t, 0, sig);
	} else {
		tr_resume(L, t, 0);
	}
	if (!entry_line)
		tr_pending_add(L, t);
}

static void tr_on_exit(struct tr_loop *L, struct tr_task *t, struct tr_sysinfo *si)
{
	int64_t mono = tr_stop_now(L), cpu = -1;
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
	tr_tamper_exit(L, t, si);
	L->scratch.len = 0;
	L->scratch.overflow = 0;
	/* what a call fills is read when it succeeded, when a sleep was
	 * interrupted (nanosleep's remaining time: EINTR, ERESTART*), and on
	 * E2BIG (sched_setattr writes back the size it knows) */
	if ((!si->exit.is_error || si->exit.rval == -EINTR || si->exit.rval == -E2BIG
	     || (si->exit.rval <= -512 && si->exit.rval >= -516))
	    && (t->eflags & TR_EF_FETCH_EXIT)) {
		pe = tr_plan_lookup(&L->plan, t->pers, t->nr);
		if (pe)
			xn = tr_fetch(L, t, pe, 1, &L->scratch, si->exit.rval);
	}
	if ((L->plan.flags & TR_PF_KVM) && !si->exit.is_error)
		xn += tr_kvm_exit(t, &L->scratch, si->exit.rval); /* -e kvm=vcpu */
	if (t->has_cpu) {
		int64_t c = tr_cpu(t);

		if (c >= 0)
			cpu = c - (int64_t)t->cpu_entry;
	}
	t->flags &= ~T_WANT_EXIT;
	if (TR_SYNC(L)) {
		/* sync: the call's line is printed before the tracee runs on
		 * (tr_resume waits for it) */
		tr_emit_call(L, t, 1, si->exit.rval, si->exit.is_error, mono - t->mono_entry, &L->scratch, xn, cpu, t->tflags);
		t->tflags = 0;
	}
	if (t->trule) {
		int sig = t->tsig;

		t->tsig = 0;
		tr_tamper_resume(L, t, 1, sig);
		t->trule = 0;
	} else {
		tr_resume(L, t, 0);
	}
	if (!TR_SYNC(L)) {
		tr_emit_call(L, t, 1, si->exit.rval, si->exit.is_error, mono - t->mono_entry, &L->scratch, xn, cpu, t->tflags);
		t->tflags = 0;
	}
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
	int tid = t->tid, ptid = t->ptid;

	if (!o)
		return t;
	/* the exec'ing thread's call shows under its old id first (strace
	 * prints it at entry, then closes it with "<pid changed to N ...>");
	 * its exit comes under the new one */
	if (!L->passthru) {
		tr_split_others(L, NULL); /* every call under way, in entry order */
		if ((o->flags & (T_INSYS | T_IGNORE | T_SPLIT)) == T_INSYS)
			tr_emit_entry(L, o);
	}
	tr_vanish_call(L, t);
	tr_task_free(L, t);
	tr_hash_remove(L, o);
	o->tid = tid;
	o->ptid = ptid;
	o->ns_tid = o->ns_tgid; /* the leader's id, as its namespace sees it */
	o->xtid = o->xtgid;
	tr_hash_insert(L, o);
	if (o->sched_fd >= 0)
		close(o->sched_fd);
	if (o->mem_fd >= 0)
		close(o->mem_fd);
	if (o->fd_dir >= 0)
		close(o->fd_dir);
	o->sched_fd = o->mem_fd = o->fd_dir = -1;
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
		tr_tamper_finish(L, t);
		break;
	}
	t->flags &= ~(T_WANT_EXIT | T_INSYS);
	ptrace(PTRACE_CONT, t->tid, 0L, 0L);
}

/* The task a wait status is about; NULL when there is none to handle (it
 * died before its first stop, or could not be added). */
static struct tr_task *tr_status_task(struct tr_loop *L, int tid, int status)
{
	struct tr_task *t = tr_find(L, tid);

	if (t)
		return t;
	if (!WIFSTOPPED(status)) {
		/* died before its first stop: keep its parent's
		 * event from bringing it back */
		tr_ghost_add(L, tid);
		return NULL;
	}
	/* a new task reporting before its parent's event */
	t = tr_task_new(L, tid, 0);
	if (!t)
		ptrace(PTRACE_DETACH, tid, 0L, 0L);
	return t;
}

/* The task exited or was killed: its call under way, EXIT or KILLED. */
static void tr_on_gone(struct tr_loop *L, struct tr_task *t, int status)
{
	if (!(t->flags & T_ANNOUNCED))
		tr_ghost_add(L, t->tid);
	tr_vanish_call(L, t);
	if (WIFEXITED(status))
		tr_emit_simple(L, TR_REC_EXIT, t, 1, WEXITSTATUS(status), 0);
	else
		tr_emit_simple(L, TR_REC_KILLED, t, 2, WTERMSIG(status), WCOREDUMP(status) ? 1 : 0);
	if (!L->attach && L->cfg->pids_len && t->tid == L->cfg->pids[0])
		L->st->root_status = status; /* the leader reports last: the group's status */
	tr_task_free(L, t);
}

/* A syscall-stop (plain PTRACE_SYSCALL): a call's entry or exit. */
static void tr_on_syscall_stop(struct tr_loop *L, struct tr_task *t)
{
	struct tr_sysinfo si;

	L->st->syscall_stops++;
	if (ptrace(TR_PTRACE_GET_SYSCALL_INFO, t->tid, (void *)sizeof(si), &si) <= 0) {
		tr_resume(L, t, 0);
		return;
	}
	if (t->replay && tr_tamper_replay(L, t, si.op))
		return; /* tamper.c: a call made again for its signal= */
	if (si.op == TR_SI_ENTRY) {
		t->ip = si.ip;
		tr_on_entry(L, t, &si, 0);
	}
	else if (si.op == TR_SI_EXIT)
		tr_on_exit(L, t, &si);
	else
		tr_resume(L, t, 0);
}

/* A seccomp stop: the entry of a call the filter selected. */
static void tr_on_seccomp_stop(struct tr_loop *L, struct tr_task *t)
{
	struct tr_sysinfo si;

	L->st->seccomp_stops++;
	if (ptrace(TR_PTRACE_GET_SYSCALL_INFO, t->tid, (void *)sizeof(si), &si) <= 0 || si.op != TR_SI_SECCOMP) {
		tr_resume(L, t, 0);
		return;
	}
	if (t->flags & T_INSYS)
		tr_vanish_call(L, t); /* should not happen; keep records sane */
	t->ip = si.ip;
	tr_on_entry(L, t, &si, 1);
}

/* A fork, vfork or clone event: the child is added (unless it is there
 * already, or died first) and announced. */
static void tr_on_newtask(struct tr_loop *L, struct tr_task *t, int ev)
{
	unsigned long msg = 0;
	struct tr_task *c;

	ptrace(TR_PTRACE_GETEVENTMSG, t->tid, 0L, &msg);
	c = tr_find(L, (int)msg);
	if (!c && !tr_ghost_take(L, (int)msg))
		c = tr_task_new(L, (int)msg, ev == TR_EV_CLONE ? 0 : (int)msg);
	tr_resume(L, t, 0);
	tr_emit_simple(L, TR_REC_NEWTASK, t, 2, (int64_t)(c ? c->xtid : tr_xid(L, (int)msg)),
		       ev == TR_EV_FORK ? TR_NEW_FORK : ev == TR_EV_VFORK ? TR_NEW_VFORK : TR_NEW_CLONE);
	if (c)
		c->flags |= T_ANNOUNCED;
}

/* A signal-delivery-stop: the signal goes on, with a SIGNAL record. */
static void tr_on_signal(struct tr_loop *L, struct tr_task *t, int sig)
{
	unsigned char sinfo[128];

	memset(sinfo, 0, sizeof(sinfo));
	ptrace(TR_PTRACE_GETSIGINFO, t->tid, 0L, sinfo);
	if (L->plan.flags & TR_PF_IP) {
		struct tr_sysinfo si;

		/* any stop: op NONE, with the instruction pointer */
		if (ptrace(TR_PTRACE_GET_SYSCALL_INFO, t->tid, (void *)sizeof(si), &si) > 0)
			t->ip = si.ip;
	}
	if ((L->plan.flags & TR_PF_STACK) && !(t->flags & T_INSYS))
		tr_unwind(L, t, 0); /* -k: strace prints the stack a signal is delivered at too */
	if (!TR_SYNC(L))
		tr_resume(L, t, sig);
	tr_split_others(L, t);
	tr_rec_room(L, 256 + t->stk_len);
	tr_rec_head(L, TR_REC_SIGNAL, 7, t, tr_now(CLOCK_REALTIME));
	tr_mp_uint(&L->out, sig);
	tr_mp_bin(&L->out, sinfo, sizeof(sinfo));
	tr_rec_end(L, t);
	if (TR_SYNC(L))
		tr_resume(L, t, sig); /* sync: the signal's line before its handler runs */
}

/* The end of a stop's hold (the first resume after the wait returned it):
 * one observation of the stop-latency histogram per stop. */
void tr_stop_done(struct tr_loop *L)
{
	int64_t ns;
	unsigned int i;

	if (!L->stop_t0)
		return;
	ns = tr_now(CLOCK_MONOTONIC) - L->stop_t0;
	L->stop_t0 = 0;
	if (ns < 1)
		ns = 1;
	/* bucket i: (2^(SHIFT+i-1), 2^(SHIFT+i)] ns; 64 - clz(ns-1) = ceil(log2 ns) */
	i = ns <= (1LL << TR_LAT_SHIFT) ? 0 : 64 - __builtin_clzll((unsigned long long)ns - 1) - TR_LAT_SHIFT;
	if (i >= TR_LAT_BUCKETS)
		i = TR_LAT_BUCKETS - 1;
	L->st->stop_ns_hist[i]++;
	L->st->stop_ns_sum += ns;
}

_Static_assert(sizeof(((struct tr_stats *)0)->stop_ns_hist) == TR_LAT_BUCKETS * sizeof(unsigned long long),
	       "tracer.h: stop_ns_hist must have TR_LAT_BUCKETS entries");

static void tr_on_status_1(struct tr_loop *L, int tid, int status);

void tr_on_status(struct tr_loop *L, int tid, int status)
{
	L->st->stops++;
	L->stop_t0 = tr_now(CLOCK_MONOTONIC);
	tr_on_status_1(L, tid, status);
	tr_stop_done(L); /* not resumed by tr_resume: ends here */
}

static void tr_on_status_1(struct tr_loop *L, int tid, int status)
{
	struct tr_task *t;
	unsigned long msg = 0;
	int sig, ev;

	t = tr_status_task(L, tid, status);
	if (!t)
		return;
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		tr_on_gone(L, t, status);
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
		else if (sig == (SIGTRAP | 0x80))
			tr_tamper_finish(L, t);
		tr_detach_task(L, t, inj);
		return;
	}
	if (sig == (SIGTRAP | 0x80)) {
		tr_on_syscall_stop(L, t);
		return;
	}
	switch (ev) {
	case TR_EV_SECCOMP:
		tr_on_seccomp_stop(L, t);
		return;
	case TR_EV_FORK:
	case TR_EV_VFORK:
	case TR_EV_CLONE:
		tr_on_newtask(L, t, ev);
		return;
	case TR_EV_EXEC: {
		int old, xold;
		struct tr_sysinfo si;
		int pers = TR_PERS_X86_64;

		ptrace(TR_PTRACE_GETEVENTMSG, tid, 0L, &msg);
		old = (int)msg;
		xold = tr_xid(L, old); /* as the records name it, before the rename */
		/* the new program's personality: any stop reports the arch */
		if (ptrace(TR_PTRACE_GET_SYSCALL_INFO, tid, (void *)sizeof(si), &si) > 0 && si.arch == TR_AUDIT_ARCH_I386)
			pers = TR_PERS_I386;
		t = tr_exec_rename(L, t, old);
		tr_unwind_drop(t); /* -k: a new program, new modules */
		if ((L->plan.flags & TR_PF_STACK) && !L->tamper_live)
			/* the command's own execve: its entry was in our launcher,
			 * which strace never traced; strace shows where the new
			 * program is when the call returns */
			tr_unwind(L, t, 0);
		L->tamper_live = 1; /* strace: nothing is tampered with before the first execve */
		L->execd = 1;
		tr_resume(L, t, 0);
		tr_emit_exec(L, t, xold, pers);
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
		tr_on_signal(L, t, sig);
		return;
	default:
		tr_resume(L, t, 0);
		return;
	}
}

/* wait says nothing is left to trace: whatever the table still holds
 * never reported and never will (a safety net: the loop must end). */
void tr_forget_all(struct tr_loop *L)
{
	for (unsigned int i = 0; i < L->hsize; i++) {
		while (L->hash[i]) {
			struct tr_task *t = L->hash[i];

			tr_vanish_call(L, t);
			tr_task_free(L, t);
		}
	}
}

void tr_drain_wait(struct tr_loop *L)
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
