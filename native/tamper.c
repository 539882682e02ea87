// SPDX-License-Identifier: MIT
/* ------------------------------------------------------------------------
 * Tampering: strace's -e inject= / -e fault=, as the plan's tamper section
 * says (docs/fetch-plan.md). At a selected call's entry the loop counts it
 * (per thread and per rule: when=), and when the rule fires it writes the
 * tracee's memory (poke_enter), replaces the call (nr -1: not executed; or a
 * %pure substitute) and may hold the thread (delay_enter). At the exit it
 * writes the return value (error=, retval=) and memory (poke_exit), may hold
 * the thread again (delay_exit) and resumes it with signal= (strace sends the
 * signal when it resumes the call; a seccomp stop cannot carry one, so for
 * those the signal goes with the exit's resume).
 *
 * Registers are written with PTRACE_SET_SYSCALL_INFO (Linux 6.16), detected
 * at the first use; PTRACE_GETREGS/SETREGS where the kernel lacks it.
 *
 * A held thread stays in its ptrace stop while the loop serves everyone
 * else: the loop's waits end at the earliest wake-up time (tr_delay_left)
 * and resume whoever is due (tr_delay_expire). docs/design-notes.md.
 * ---------------------------------------------------------------------- */

#include "tr_internal.h"

#define TR_PTRACE_SET_SYSCALL_INFO 0x4212
#define TR_TAMPER_HEADER 8
#define TR_TAMPER_RULE 56
#define TR_TAMPER_POKE 8

static uint64_t tr_le64(const unsigned char *p)
{
	return tr_le32(p) | ((uint64_t)tr_le32(p + 4) << 32);
}

/* The tamper section at `off`: rules into pl->tamper, each plan entry's
 * `tamper` pointing at its rule. The new offset, or -EINVAL. */
long tr_tamper_parse(struct tr_plan *pl, const unsigned char *p, size_t off, size_t len)
{
	unsigned int count, npaths;
	size_t o, npokes = 0, start;

	if (off + TR_TAMPER_HEADER > len)
		return -EINVAL;
	count = p[off] | (p[off + 1] << 8);
	npaths = p[off + 2] | (p[off + 3] << 8);
	off += TR_TAMPER_HEADER;
	start = off;
	/* first pass: sizes */
	o = off;
	for (unsigned int i = 0; i < npaths; i++) {
		size_t n;

		if (o + 2 > len)
			return -EINVAL;
		n = p[o] | (p[o + 1] << 8);
		if (!n || n >= TR_PATH_MAX)
			return -EINVAL;
		o += (2 + n + 7) & ~(size_t)7;
		if (o > len)
			return -EINVAL;
	}
	for (unsigned int i = 0; i < count; i++) {
		unsigned int np;

		if (o + TR_TAMPER_RULE > len)
			return -EINVAL;
		np = p[o + 3];
		o += TR_TAMPER_RULE;
		for (unsigned int j = 0; j < np; j++) {
			size_t plen;

			if (o + TR_TAMPER_POKE > len)
				return -EINVAL;
			plen = p[o + 2] | (p[o + 3] << 8);
			o += TR_TAMPER_POKE + ((plen + 7) & ~(size_t)7);
			if (o > len)
				return -EINVAL;
		}
		npokes += np;
	}
	pl->tamper = calloc(count ? count : 1, sizeof(*pl->tamper));
	pl->pokes = calloc(npokes ? npokes : 1, sizeof(*pl->pokes));
	pl->tamper_raw = malloc(o - start + 1);
	pl->tpaths = calloc(npaths ? npaths : 1, sizeof(*pl->tpaths));
	if (!pl->tamper || !pl->pokes || !pl->tamper_raw || !pl->tpaths)
		return -ENOMEM;
	memcpy(pl->tamper_raw, p + start, o - start);
	pl->ntamper = count;
	off = 0; /* now into tamper_raw */
	npokes = 0;
	for (unsigned int i = 0; i < npaths; i++) {
		unsigned char *q = pl->tamper_raw + off;
		size_t n = q[0] | (q[1] << 8);

		/* the two length bytes become the string's NUL-free start: keep
		 * (pointer, length) instead */
		pl->tpaths[i].s = (const char *)q + 2;
		pl->tpaths[i].len = n;
		off += (2 + n + 7) & ~(size_t)7;
	}
	pl->ntpaths = npaths;
	for (unsigned int i = 0; i < count; i++) {
		const unsigned char *r = pl->tamper_raw + off;
		struct tr_trule *tr = &pl->tamper[i];
		struct tr_pentry *pe;

		tr->pers = r[0];
		tr->actions = r[1];
		tr->signo = r[2];
		tr->npokes = r[3];
		tr->nr = tr_le32(r + 4);
		tr->first = r[8] | (r[9] << 8);
		tr->last = r[10] | (r[11] << 8);
		tr->step = r[12] | (r[13] << 8);
		tr->error = r[14] | (r[15] << 8);
		tr->retval = tr_le64(r + 16);
		tr->scno = (int64_t)tr_le64(r + 24);
		tr->delay_enter_ns = tr_le64(r + 32);
		tr->delay_exit_ns = tr_le64(r + 40);
		tr->pathargs = r[48];
		tr->fdargs = r[49];
		tr->pokes = &pl->pokes[npokes];
		off += TR_TAMPER_RULE;
		for (unsigned int j = 0; j < tr->npokes; j++) {
			struct tr_poke *pk = &pl->pokes[npokes++];
			const unsigned char *q = pl->tamper_raw + off;

			pk->phase = q[0];
			pk->arg = q[1];
			pk->len = q[2] | (q[3] << 8);
			pk->data = q + TR_TAMPER_POKE;
			off += TR_TAMPER_POKE + ((pk->len + 7) & ~(size_t)7);
			if (pk->phase > 1 || pk->arg > 7 || (!pk->arg && pk->len >= 120))
				return -EINVAL;
		}
		if (tr->pers > TR_PERS_X32 || !tr->actions || !tr->first)
			return -EINVAL;
		pe = tr_plan_lookup(pl, tr->pers, tr->nr);
		if (!pe)
			return -EINVAL; /* a rule for a call the plan does not select */
		pe->tamper = (int32_t)i + 1;
	}
	return (long)(start + off);
}

/* -P: whether the call names one of the paths: a path argument as passed,
 * or an fd argument whose /proc/TID/fd link is one (the consumer's rule for
 * showing a call, so what is tampered with is what is shown). */
static int tr_names_path(const struct tr_plan *pl, const char *s, size_t n)
{
	for (int i = 0; i < pl->ntpaths; i++)
		if (pl->tpaths[i].len == n && !memcmp(pl->tpaths[i].s, s, n))
			return 1;
	return 0;
}

static int tr_path_match(struct tr_loop *L, struct tr_task *t, const struct tr_trule *tr)
{
	char buf[TR_PATH_MAX + 1], link[64];

	for (int i = 0; i < 6; i++) {
		if (tr->pathargs & (1 << i)) {
			ssize_t n = tr_peek(t, buf, t->args[i], TR_PATH_MAX);
			char *z = n > 0 ? memchr(buf, 0, (size_t)n) : NULL;

			if (z && tr_names_path(&L->plan, buf, (size_t)(z - buf)))
				return 1;
		} else if (tr->fdargs & (1 << i)) {
			int fd = (int)(int32_t)t->args[i];
			ssize_t n;

			if (fd < 0)
				continue;
			snprintf(link, sizeof(link), "/proc/%d/fd/%d", TR_PROC_ID(t), fd);
			n = readlink(link, buf, TR_PATH_MAX);
			if (n > 0 && tr_names_path(&L->plan, buf, (size_t)n))
				return 1;
		}
	}
	return 0;
}

/* strace's when=: the n-th call (1-based) of this thread to this rule's
 * call is tampered with iff first <= n <= last and n - first is a multiple
 * of step (step 0: n == first only). */
static int tr_tamper_fires(struct tr_loop *L, struct tr_task *t, unsigned int idx, const struct tr_trule *tr)
{
	uint32_t n;

	if (!t->tcount) {
		t->tcount = calloc(L->plan.ntamper, sizeof(*t->tcount));
		if (!t->tcount)
			return 0;
	}
	n = t->tcount[idx];
	if (n >= 0xFFFFFFFEu || (tr->last != 0xFFFF && n >= tr->last) || (!tr->step && n >= tr->first))
		return 0; /* past every call it could fire on: stop counting */
	t->tcount[idx] = ++n;
	if (n < tr->first)
		return 0;
	return tr->step ? (n - tr->first) % tr->step == 0 : n == tr->first;
}

/* Write the call's number (entry) or its return value (exit): SET_SYSCALL_INFO
 * rewrites what GET_SYSCALL_INFO read, in place. */
static int tr_set_info(struct tr_loop *L, struct tr_task *t, struct tr_sysinfo *si)
{
	if (!L->no_setinfo) {
		if (ptrace(TR_PTRACE_SET_SYSCALL_INFO, t->tid, (void *)sizeof(*si), si) == 0)
			return 0;
		if (errno != EIO)
			return -errno;
		L->no_setinfo = 1; /* the kernel predates it (6.16) */
	}
	L->st->tamper_setregs++;
	{
		struct user_regs_struct regs;

		if (ptrace(PTRACE_GETREGS, t->tid, 0L, &regs) < 0)
			return -errno;
		if (si->op == TR_SI_EXIT)
			regs.rax = (unsigned long long)si->exit.rval;
		else
			regs.orig_rax = si->op == TR_SI_SECCOMP ? si->seccomp.nr : si->entry.nr;
		if (ptrace(PTRACE_SETREGS, t->tid, 0L, &regs) < 0)
			return -errno;
	}
	return 0;
}

static void tr_poke(struct tr_loop *L, struct tr_task *t, const struct tr_trule *tr, int phase)
{
	char path[64], msg[200];
	int fd = -1;

	for (unsigned int j = 0; j < tr->npokes; j++) {
		const struct tr_poke *pk = &tr->pokes[j];
		uint64_t addr = pk->arg <= 6 ? t->args[pk->arg - 1] : 0;
		ssize_t n;

		if (pk->phase != phase)
			continue;
		if (!pk->arg) {
			/* the call has fewer arguments: the data is what to say */
			snprintf(msg, sizeof(msg), "poke_tcb: Failed to tamper with process %d: %.*s", t->xtid, (int)pk->len, (const char *)pk->data);
			tr_rec_error(L, t, EINVAL, msg);
			continue;
		}
		if (fd < 0) {
			snprintf(path, sizeof(path), "/proc/%d/mem", TR_PROC_ID(t));
			fd = open(path, O_RDWR | O_CLOEXEC);
		}
		n = fd >= 0 && pk->arg <= 6 ? pwrite(fd, pk->data, pk->len, (off_t)addr) : -1;
		if (n <= 0) {
			/* strace's words; the call goes on untouched */
			snprintf(msg, sizeof(msg), "poke_tcb: Failed to tamper with process %d: couldn't poke", t->xtid);
			tr_rec_error(L, t, n < 0 ? errno : EFAULT, msg);
			continue;
		}
		if (n < (ssize_t)pk->len) {
			/* the data ran into unwritable memory: what was written
			 * stays, and the call counts as poked (strace's upoken) */
			snprintf(msg, sizeof(msg), "upoken: pid:%d short write (%u < %u) @0x%llx", t->tid, (unsigned int)n,
				 (unsigned int)pk->len, (unsigned long long)addr);
			tr_rec_error(L, t, EFAULT, msg);
		}
		t->tflags |= TR_SF_POKED;
	}
	if (fd >= 0)
		close(fd);
}

/* A selected call's entry (before its memory is fetched, so the record
 * shows what a poke wrote, as strace prints it). Returns 1 when the call
 * is to be replayed for its signal= (see tr_tamper_replay): the caller
 * resumes it to its exit and records nothing. */
int tr_tamper_entry(struct tr_loop *L, struct tr_task *t, const struct tr_pentry *pe, struct tr_sysinfo *si)
{
	const struct tr_trule *tr;
	unsigned int idx;
	int replayed = t->replay == TR_REPLAY_SECCOMP;

	t->trule = 0;
	t->tflags = 0;
	t->tsig = 0;
	t->replay = 0;
	t->flags &= ~T_TAMPERED; /* a call that vanished left it set */
	if (!pe || !pe->tamper || !L->tamper_live)
		return 0;
	idx = (unsigned int)pe->tamper - 1;
	tr = &L->plan.tamper[idx];
	if (!replayed && L->plan.ntpaths && !tr_path_match(L, t, tr))
		return 0; /* -P: strace counts only the calls it shows */
	if (replayed) {
		/* the same call again, its signal sent: the rest of the rule */
		t->trule = pe->tamper;
		t->tflags |= TR_SF_SIGNALED;
	} else {
		if (!tr_tamper_fires(L, t, idx, tr))
			return 0;
		t->trule = pe->tamper;
		L->st->tampered++;
		if ((tr->actions & TR_TA_SIGNAL) && si->op == TR_SI_SECCOMP) {
			/* strace sends signal= at the syscall-enter-stop, so the
			 * call runs with it pending (a blocking call is cut
			 * short); a seccomp stop drops a resume signal. So this
			 * execution is skipped and the call made again, stopping
			 * at its syscall-enter-stop this time */
			si->seccomp.nr = (uint64_t)-1;
			if (tr_set_info(L, t, si) == 0) {
				t->replay = TR_REPLAY_REWIND;
				t->trule = 0;
				return 1;
			}
		}
	}
	if (tr->actions & TR_TA_POKE_ENTER)
		tr_poke(L, t, tr, 0);
	if (tr->actions & (TR_TA_ERROR | TR_TA_RETVAL)) {
		int64_t nr = (tr->actions & TR_TA_SYSCALL) ? tr->scno : -1;

		if (si->op == TR_SI_SECCOMP)
			si->seccomp.nr = (uint64_t)nr;
		else
			si->entry.nr = (uint64_t)nr;
		if (tr_set_info(L, t, si) == 0)
			t->flags |= T_TAMPERED;
		else
			tr_rec_error(L, t, errno, "inject: cannot change the system call");
	}
	if ((tr->actions & TR_TA_SIGNAL) && !replayed) {
		t->tsig = tr->signo;
		t->tflags |= TR_SF_SIGNALED;
	}
	if (tr->actions & (TR_TA_DELAY_ENTER | TR_TA_DELAY_EXIT))
		t->tflags |= TR_SF_DELAYED;
	return 0;
}

/* Put the call back: its instruction once more (syscall and int $0x80 are
 * both two bytes; the kernel's own restarts do the same) with its number. */
static int tr_rewind(struct tr_loop *L, struct tr_task *t)
{
	struct user_regs_struct regs;

	if (ptrace(PTRACE_GETREGS, t->tid, 0L, &regs) < 0)
		return -errno;
	regs.rip -= 2;
	regs.rax = t->nr;
	regs.orig_rax = t->nr;
	if (ptrace(PTRACE_SETREGS, t->tid, 0L, &regs) < 0)
		return -errno;
	return 0;
}

/* The steps of a replay for signal= after a seccomp stop. At the skipped
 * execution's exit stop: rewind, resume to the syscall-enter-stop. There:
 * resume with the signal (the kernel sends it, as under strace), and the
 * seccomp stop that follows is the call, tampered with by the rest of its
 * rule (tr_tamper_entry). Returns 1 when the stop was a replay step. */
int tr_tamper_replay(struct tr_loop *L, struct tr_task *t, int op)
{
	const struct tr_trule *tr;

	if (t->replay == TR_REPLAY_REWIND && op == TR_SI_EXIT) {
		if (tr_rewind(L, t) < 0) {
			tr_rec_error(L, t, errno, "inject: cannot make the call again for its signal");
			t->replay = 0;
			t->flags &= ~T_WANT_EXIT;
			tr_resume(L, t, 0);
			return 1;
		}
		t->replay = TR_REPLAY_ENTER;
		t->flags |= T_WANT_EXIT; /* PTRACE_SYSCALL: stop at its entry */
		tr_resume(L, t, 0);
		return 1;
	}
	if (t->replay == TR_REPLAY_ENTER && op == TR_SI_ENTRY) {
		const struct tr_pentry *pe = tr_plan_lookup(&L->plan, t->pers, t->nr);

		tr = pe && pe->tamper ? &L->plan.tamper[pe->tamper - 1] : NULL;
		t->replay = TR_REPLAY_SECCOMP;
		t->flags |= T_WANT_EXIT;
		tr_resume(L, t, tr ? tr->signo : 0);
		return 1;
	}
	return 0;
}

/* Whether the call under way needs its exit stop for tampering. */
int tr_tamper_wants_exit(struct tr_task *t)
{
	return t->trule != 0;
}

/* The nanoseconds to hold the thread at this phase (0: none). */
static uint64_t tr_tamper_delay(struct tr_loop *L, struct tr_task *t, int phase)
{
	const struct tr_trule *tr;

	if (!t->trule)
		return 0;
	tr = &L->plan.tamper[t->trule - 1];
	if (phase == 0)
		return (tr->actions & TR_TA_DELAY_ENTER) ? (tr->delay_enter_ns ? tr->delay_enter_ns : 1) : 0;
	return (tr->actions & TR_TA_DELAY_EXIT) ? (tr->delay_exit_ns ? tr->delay_exit_ns : 1) : 0;
}

/* Resume a tampered call's thread at entry (phase 0) or exit (1) with `sig`:
 * now, or held for its delay_enter=/delay_exit= (tr_delay_expire wakes it). */
void tr_tamper_resume(struct tr_loop *L, struct tr_task *t, int phase, int sig)
{
	uint64_t d = tr_tamper_delay(L, t, phase);

	if (d)
		tr_delay_hold(L, t, d, sig);
	else
		tr_resume(L, t, sig);
}

/* A tampered call's exit: the return value written; the record carries it
 * as strace reports it (a retval= is a success, even in the error range). */
void tr_tamper_exit(struct tr_loop *L, struct tr_task *t, struct tr_sysinfo *si)
{
	const struct tr_trule *tr;

	if (!t->trule)
		return;
	tr = &L->plan.tamper[t->trule - 1];
	if ((t->flags & T_TAMPERED) && (tr->actions & (TR_TA_ERROR | TR_TA_RETVAL))) {
		if (tr->actions & TR_TA_ERROR) {
			si->exit.rval = -(int64_t)tr->error;
			si->exit.is_error = 1;
		} else {
			/* a success whatever the value (strace prints it
			 * unsigned); an i386 tracee gets the low 32 bits */
			si->exit.rval = (int64_t)(t->pers == TR_PERS_I386 ? tr->retval & 0xffffffffu : tr->retval);
			si->exit.is_error = 0;
		}
		if (tr_set_info(L, t, si) == 0) {
			t->tflags |= TR_SF_INJECTED;
		} else {
			tr_rec_error(L, t, errno, "inject: cannot set the return value");
		}
	}
	t->flags &= ~T_TAMPERED;
	if (tr->actions & TR_TA_POKE_EXIT)
		tr_poke(L, t, tr, 1);
}

/* --- delays ------------------------------------------------------------- */

/* Keep `t` stopped for `ns`; resumed by tr_delay_expire with `sig`. */
void tr_delay_hold(struct tr_loop *L, struct tr_task *t, uint64_t ns, int sig)
{
	int64_t now = tr_now(CLOCK_MONOTONIC);

	t->wake_ns = ns > (uint64_t)(INT64_MAX - now) ? INT64_MAX : now + (int64_t)ns;
	t->held_sig = sig;
	t->flags |= T_DELAYED;
	t->dnext = L->delayed;
	L->delayed = t;
}

static void tr_delay_unlink(struct tr_loop *L, struct tr_task *t)
{
	for (struct tr_task **pp = &L->delayed; *pp; pp = &(*pp)->dnext) {
		if (*pp == t) {
			*pp = t->dnext;
			break;
		}
	}
	t->dnext = NULL;
	t->flags &= ~T_DELAYED;
}

/* Nanoseconds until the earliest wake-up, 0 when one is due, -1 none. */
int64_t tr_delay_left(struct tr_loop *L)
{
	int64_t now, best = INT64_MAX;

	if (!L->delayed)
		return -1;
	now = tr_now(CLOCK_MONOTONIC);
	for (struct tr_task *t = L->delayed; t; t = t->dnext)
		if (t->wake_ns < best)
			best = t->wake_ns;
	return best <= now ? 0 : best - now;
}

/* Resume every held thread that is due (all of them with `all`). */
void tr_delay_expire(struct tr_loop *L, int all)
{
	int64_t now = tr_now(CLOCK_MONOTONIC);
	struct tr_task **pp = &L->delayed;

	while (*pp) {
		struct tr_task *t = *pp;

		if (!all && t->wake_ns > now) {
			pp = &t->dnext;
			continue;
		}
		*pp = t->dnext;
		t->dnext = NULL;
		t->flags &= ~T_DELAYED;
		tr_resume(L, t, t->held_sig);
		t->held_sig = 0;
	}
}

/* A task leaves the table: its tamper state goes with it. */
void tr_tamper_forget(struct tr_loop *L, struct tr_task *t)
{
	if (t->flags & T_DELAYED)
		tr_delay_unlink(L, t);
	free(t->tcount);
	t->tcount = NULL;
}

/* A syscall stop while the loop detaches or passes through: a call that was
 * replaced at its entry still gets its return value (else the tracee would
 * see the skipped call's ENOSYS). */
void tr_tamper_finish(struct tr_loop *L, struct tr_task *t)
{
	struct tr_sysinfo si;

	if (t->replay == TR_REPLAY_REWIND) {
		/* skipped for a replay: made again, without its signal */
		t->replay = 0;
		if (ptrace(TR_PTRACE_GET_SYSCALL_INFO, t->tid, (void *)sizeof(si), &si) > 0 && si.op == TR_SI_EXIT)
			tr_rewind(L, t);
		return;
	}
	t->replay = 0;
	if (!t->trule || !(t->flags & T_TAMPERED))
		return;
	if (ptrace(TR_PTRACE_GET_SYSCALL_INFO, t->tid, (void *)sizeof(si), &si) > 0 && si.op == TR_SI_EXIT)
		tr_tamper_exit(L, t, &si);
	t->trule = 0;
}
