// SPDX-License-Identifier: MIT
/* ------------------------------------------------------------------------
 * Injecting the filter into running processes (attach --seccomp-bpf),
 * and into a process caught at exec by a standing rule (held at its exec
 * event, then before the new image's first instruction).
 *
 * Every thread is seized and held in its first stop; then, per process,
 * one held thread runs mmap, seccomp(SECCOMP_SET_MODE_FILTER, TSYNC) (and
 * prctl(PR_SET_NO_NEW_PRIVS) only after EACCES, as launch mode does) and
 * munmap, each as a `syscall` instruction the thread executes under
 * PTRACE_SYSCALL; its registers (and the text word, if one was patched) are
 * restored afterwards. TSYNC gives every thread of the process the filter.
 * x86-64 hosts only; a 32-bit thread makes the calls as i386 calls.
 * ---------------------------------------------------------------------- */

#include "tr_internal.h"

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
static int tr_filters_read(struct tr_loop *L, int tgid, int tid, int ptid, struct tr_filters *f)
{
	char path[64], buf[4096], *s;
	ssize_t n;
	int fd, mode = 0;

	f->n = 0;
	snprintf(path, sizeof(path), "/proc/%d/status", ptid);
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

static int tr_inj_restarts(uint64_t rax)
{
	long e = -(long)rax;

	return e == TR_ERESTARTSYS || e == TR_ERESTARTNOINTR || e == TR_ERESTARTNOHAND ||
	       e == TR_ERESTART_RESTARTBLOCK;
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
			/* a call that has completed (no restart code in rax: the
			 * execve of a process caught at exec, held before the new
			 * image's first instruction) has nothing to restart */
			if ((long)r.orig_rax >= 0 && !tr_inj_restarts(r.rax))
				r.orig_rax = -1;
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

static int tr_inj_write(int tid, int ptid, uint64_t addr, const void *src, size_t len)
{
	struct iovec l = { (void *)src, len }, r = { (void *)(uintptr_t)addr, len };
	char path[64];
	ssize_t n;
	int fd;

	n = process_vm_writev(tid, &l, 1, &r, 1, 0);
	if (n == (ssize_t)len)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/mem", ptid);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pwrite(fd, src, len, (off_t)addr);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

#define TR_INJ_FAIL(...) (snprintf(L->err, L->errlen, __VA_ARGS__), r = -EINVAL)

/* Every call we may make, checked against the process's own filters before
 * the first one runs (the pointers are not known yet: filters seldom look
 * at them; each call is checked again with its real arguments). 0, or
 * -EPERM with the message in L->err. */
static int tr_inj_precheck(struct tr_loop *L, int tgid, struct tr_inj *j, size_t size)
{
	long a_mmap[6] = { 0, (long)size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0 };
	long a_sc[6] = { SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, 0, 0, 0, 0 };
	long a_nnp[6] = { PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0 };
	long a_unmap[6] = { 0, (long)size, 0, 0, 0, 0 };
	uint64_t ip = j->saved.rip; /* either insn ends at or near here */
	const struct tr_inj_abi *A = j->abi;

	if (tr_filters_allow(L, tgid, &j->filt, A->mmap_name, A->mmap, A->arch, ip, a_mmap) < 0 ||
	    tr_filters_allow(L, tgid, &j->filt, "seccomp", A->seccomp, A->arch, ip, a_sc) < 0 ||
	    tr_filters_allow(L, tgid, &j->filt, "prctl", A->prctl, A->arch, ip, a_nnp) < 0 ||
	    tr_filters_allow(L, tgid, &j->filt, "munmap", A->munmap, A->arch, ip, a_unmap) < 0)
		return -EPERM;
	return 0;
}

/* The instruction to run: the thread's last `syscall` (int 0x80 for a
 * 32-bit thread) if it sits just before ip (nothing to patch), else one
 * written over ip for now. 0, or -EINVAL with the message in L->err. */
static int tr_inj_place(struct tr_loop *L, int tgid, struct tr_inj *j)
{
	int ok;
	long w = tr_peek_word(j->t->tid, j->saved.rip - 2, &ok);

	j->base = j->saved;
	j->base.orig_rax = -1; /* no restart logic on injected registers */
	if (ok && (w & 0xffff) == j->abi->insn) {
		j->base.rip = j->saved.rip - 2;
		return 0;
	}
	j->poke_addr = j->saved.rip;
	j->poke_word = tr_peek_word(j->t->tid, j->poke_addr, &ok);
	if (!ok || ptrace(PTRACE_POKETEXT, j->t->tid, (void *)(uintptr_t)j->poke_addr,
			  (void *)((j->poke_word & ~0xffffL) | j->abi->insn)) < 0) {
		snprintf(L->err, L->errlen, "attach --seccomp-bpf: process %d: cannot write its text: %s", tgid,
			 strerror(errno));
		return -EINVAL;
	}
	j->poked = 1;
	return 0;
}

/* The filter as a struct sock_fprog followed by its instructions (`len`
 * bytes), written at `addr` in the process. 0, or -EINVAL with the
 * message in L->err. */
static int tr_inj_copy_filter(struct tr_loop *L, int tgid, struct tr_inj *j, long addr, size_t len)
{
	const struct tr_config *c = L->cfg;
	unsigned char *blob = calloc(1, len);
	int r;

	if (!blob)
		return TR_INJ_FAIL("attach --seccomp-bpf: out of memory");
	/* struct sock_fprog: unsigned short len; struct sock_filter *filter
	 * (a 4-byte pointer at offset 4 in an i386 process) */
	{
		uint16_t n = (uint16_t)(c->inject_bpf_len / 8);
		uint64_t p = (uint64_t)addr + 16;
		uint32_t p32 = (uint32_t)p;

		memcpy(blob, &n, 2);
		if (j->abi == &tr_abi32)
			memcpy(blob + 4, &p32, 4);
		else
			memcpy(blob + 8, &p, 8);
		memcpy(blob + 16, c->inject_bpf, c->inject_bpf_len);
	}
	r = tr_inj_write(j->t->tid, TR_PROC_ID(j->t), (uint64_t)addr, blob, len);
	free(blob);
	if (r < 0)
		return TR_INJ_FAIL("attach --seccomp-bpf: cannot write to process %d: %s", tgid, strerror(-r));
	return 0;
}

/* seccomp(SECCOMP_SET_MODE_FILTER, TSYNC) with the filter at `addr`; its
 * result in *ret. On EACCES (no CAP_SYS_ADMIN in its user namespace: the
 * kernel wants NO_NEW_PRIVS first) prctl(PR_SET_NO_NEW_PRIVS) and once
 * more, as launch mode does, only when needed. 0, or -errno as for
 * tr_inj_call. */
static int tr_inj_seccomp(struct tr_loop *L, struct tr_inj *j, long addr, long *ret)
{
	long nnp = 0;
	int r;

	r = tr_inj_call(L, j, "seccomp", j->abi->seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, addr, 0,
			0, 0, ret);
	if (r < 0 || *ret != -EACCES)
		return r;
	r = tr_inj_call(L, j, "prctl", j->abi->prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0, &nnp);
	if (r < 0 || nnp != 0)
		return r;
	return tr_inj_call(L, j, "seccomp", j->abi->seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, addr,
			   0, 0, 0, ret);
}

/* Install the filter in process `tgid`. Returns 0, or -errno with the
 * message in L->err (the process is left as it was, save for
 * NO_NEW_PRIVS when seccomp failed after setting it). */
static int tr_inject_one(struct tr_loop *L, int tgid)
{
	const struct tr_config *c = L->cfg;
	size_t len = 16 + c->inject_bpf_len, size = (len + TR_PAGE - 1) & ~(size_t)(TR_PAGE - 1);
	struct tr_inj j;
	long addr = 0, ret = 0;
	int r;

	r = tr_inj_pick(L, tgid, &j);
	if (r < 0)
		return r;
	r = tr_filters_read(L, tgid, j.t->tid, TR_PROC_ID(j.t), &j.filt);
	if (r < 0)
		return r;
	r = tr_inj_precheck(L, tgid, &j, size);
	if (r == 0)
		r = tr_inj_place(L, tgid, &j);
	if (r < 0) {
		tr_filters_free(&j.filt);
		return r;
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
	r = tr_inj_copy_filter(L, tgid, &j, addr, len);
	if (r < 0)
		goto unmap;
	r = tr_inj_seccomp(L, &j, addr, &ret);
	if (r < 0)
		goto died;
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
			continue; /* counted (and timed) when released: tr_on_status */
		}
		/* an exec event (a process caught at exec by a standing rule,
		 * or one that execs while we gather): the stop is asked for
		 * before the resume, so the new image is held before its first
		 * instruction (a trap set while the tracee is stopped survives
		 * its resume) and nothing it does runs without the filter */
		if (WIFSTOPPED(status) && ((unsigned int)status >> 16) == TR_EV_EXEC)
			ptrace(TR_PTRACE_INTERRUPT, pid, 0L, 0L);
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
void tr_release_held(struct tr_loop *L)
{
	for (unsigned int i = 0; i < L->hsize; i++) {
		for (struct tr_task *t = L->hash[i], *n; t; t = n) {
			n = t->hnext;
			if (t->flags & T_HELD) {
				t->flags &= ~T_HELD;
				tr_on_status(L, t->tid, t->held_status);
			}
		}
	}
}

/* Injection for every seized process. Returns 0; or -errno with the
 * message in L->err after detaching every process that did not get the
 * filter (those that did stay attached: L->injected, and the caller turns
 * the loop pass-through). */
int tr_inject_all(struct tr_loop *L)
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
