// SPDX-License-Identifier: MIT
/*
 * What the files of the native loop share; private to them (the cffi cdef,
 * the part Python sees, is tracer.h). Each function declared here is
 * defined in the file named above its group; everything else stays static
 * in its file.
 *
 *   msgpack.c  the msgpack writer
 *   plan.c     the fetch plan
 *   tasks.c    the task table (tid -> task)
 *   records.c  frames and records
 *   memory.c   tracee memory: running a plan's fetch ops
 *   stops.c    ptrace stops
 *   ending.c   kill (launch) or detach (attach) every task; control and ticks
 *   seize.c    seizing tasks
 *   inject.c   injecting the filter into running processes (and the BPF
 *              interpreter that checks the process's own filters first)
 *   tamper.c   -e inject=/fault=: the plan's tamper section, counters,
 *              writing registers and memory, delays
 *   sockdiag.c -yy: sockets described by NETLINK_SOCK_DIAG, in the
 *              tracee's network namespace
 *   tracer.c   the loop (tr_run)
 *   vectors.c  golden vectors (tr_selftest_frame)
 *   unwind.c   -k: stacks with libdwfl (libdw loaded with dlopen)
 *   launch.c   the launched command's steps before its exec (tracer.h)
 */
#ifndef TR_INTERNAL_H
#define TR_INTERNAL_H

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

#include "tr_config.h" /* generated: native/_config.py */
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

/* Shared between the files of one shared object, never exported from it. */
#pragma GCC visibility push(hidden)

/* msgpack.c */
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

void tr_mp_raw(struct tr_buf *b, const void *p, size_t n);
int tr_buf_reserve(struct tr_buf *b, size_t n);

/* unwind.c */
struct tr_task;
struct tr_loop;
int tr_unwind(struct tr_loop *L, struct tr_task *t, int on_enter);
void tr_unwind_drop(struct tr_task *t);
void tr_unwind_free(struct tr_task *t);
int tr_unwind_maps_call(int pers, uint32_t nr);
int tr_unwind_on_enter(int pers, uint32_t nr);

/* plan.c */
struct tr_op {
	uint8_t phase, kind, arg, len_src;
	uint32_t size;
};

struct tr_pentry {
	uint8_t pers, nops;
	uint16_t eflags;
	uint32_t nr;
	struct tr_op *ops;
	int32_t tamper; /* its tamper rule + 1; 0: none */
};

struct tr_poke {
	uint8_t phase, arg;
	uint16_t len;
	const unsigned char *data;
};

struct tr_trule {
	uint8_t pers, actions, signo, npokes;
	uint32_t nr;
	uint16_t first, last, step, error;
	uint64_t retval;
	int64_t scno;
	uint64_t delay_enter_ns, delay_exit_ns;
	uint8_t pathargs, fdargs; /* -P: which arguments are paths / fds */
	struct tr_poke *pokes;
};

struct tr_tpath {
	const char *s; /* not NUL-terminated */
	size_t len;
};

#define TR_NR_DIRECT 1024

struct tr_plan {
	uint32_t strsize, flags;
	int count;
	struct tr_pentry *ent;
	struct tr_op *ops;
	int32_t idx[3][TR_NR_DIRECT];
	int ntamper;
	struct tr_trule *tamper;
	struct tr_poke *pokes;
	unsigned char *tamper_raw;
	int ntpaths; /* -P paths: only calls naming one are tampered with */
	struct tr_tpath *tpaths;
};

uint32_t tr_le32(const unsigned char *p);
void tr_plan_free(struct tr_plan *pl);
int tr_plan_parse(struct tr_plan *pl, const unsigned char *p, size_t len);
struct tr_pentry *tr_plan_lookup(struct tr_plan *pl, int pers, uint32_t nr);

/* tasks.c */
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
	T_TAMPERED = 0x200, /* tamper.c: the call was replaced at its entry */
	T_DELAYED = 0x400, /* tamper.c: held in its stop until wake_ns */
};

struct tr_task {
	int tid, tgid;
	int ns_tid, ns_tgid; /* innermost ids; 0 when in the records' pid namespace */
	/* the ids the records carry: tid/tgid as the consumer's pid namespace
	 * numbers them (cfg->pid_level below ours); tid/tgid when it is ours,
	 * 0 when it could not be read (never our own number then) */
	int xtid, xtgid;
	int ptid; /* its number in /proc's pid namespace (tid unless /proc is
		   * an outer namespace's: unshare -pf); 0: unknown */
	uint64_t ip; /* the instruction pointer at the call's entry (or signal): -i */
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
	int fd_dir; /* /proc/TID/fd (O_PATH), opened at the first fd named (memory.c) */
	struct tr_buf mem; /* entry-phase mem entries, encoded */
	unsigned int mem_n;
	struct tr_task *hnext;
	struct tr_task *pnext, *pprev; /* pending (unsplit) list */
	/* tamper.c */
	uint32_t *tcount; /* calls counted per tamper rule (when=) */
	int32_t trule; /* the rule acting on the call under way + 1; 0: none */
	uint32_t tflags; /* TR_SF_ tamper bits of the call's record */
	int tsig; /* signal= to send when the call is resumed */
	int held_sig; /* delayed: the signal to resume with */
	int64_t wake_ns; /* delayed: CLOCK_MONOTONIC time to resume */
	uint8_t replay; /* signal= after a seccomp stop: TR_REPLAY_ step */
	struct tr_task *dnext; /* delayed list */
	/* unwind.c (-k): the module cache, and the frames of the call under way */
	void *uw;
	char *stk; /* msgpack strs, stk_n of them */
	size_t stk_len, stk_cap;
	unsigned int stk_n;
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
	int plain; /* attach without a filter, or launch with no_follow: syscall stops, filtered here */
	int injected; /* attach with the filter injected: seccomp stops */
	int passthru; /* injected and the consumer gone: resume, record nothing */
	int sigfd, tfd;
	struct tr_buf out; /* frame: header + records */
	uint64_t seq, batch_first;
	uint64_t acked; /* sync mode: the consumer printed every record below this seq */
	int sync_on; /* sync mode: the consumer's first ack came (it reads frames) */
	int rec_ip; /* the record being written carries the task's ip in its ext map */
	int rec_stk; /* ... and the call's stack (-k): ext "stack" */
	uint64_t uw_gen; /* -k: bumped when any tracee's mappings may have changed */
#define TR_SYNC(L) ((L)->cfg->ack_fd > 0)
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
	/* tamper.c */
	struct tr_task *delayed; /* threads held by delay_enter=/delay_exit= */
	int tamper_live; /* launch: 0 until the command's first execve */
	int execd; /* launch: the command's first execve happened (the consumer no longer waits for it) */
	int no_setinfo; /* the kernel lacks PTRACE_SET_SYSCALL_INFO */
	int64_t stop_t0; /* CLOCK_MONOTONIC when wait returned the stop being handled; 0: none */
	struct tr_sockdiag *sockdiag; /* sockdiag.c, made at the first -yy socket */
};

extern int64_t tr_clock_fixed; /* tr_selftest_frame: deterministic times */

static inline int64_t tr_now(clockid_t c)
{
	struct timespec ts;

	if (tr_clock_fixed)
		return tr_clock_fixed;

	clock_gettime(c, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct tr_task *tr_find(struct tr_loop *L, int tid);
void tr_hash_insert(struct tr_loop *L, struct tr_task *t);
void tr_hash_remove(struct tr_loop *L, struct tr_task *t);
struct tr_task *tr_task_new(struct tr_loop *L, int tid, int tgid);
int tr_xid(struct tr_loop *L, int tid);
int tr_our_tid(int p);
/* The task's /proc/N (N: TR_PROC_ID), -1 (no such entry) when unknown */
#define TR_PROC_ID(t) ((t)->ptid ? (t)->ptid : -1)
void tr_pending_del(struct tr_task *t);
void tr_pending_add(struct tr_loop *L, struct tr_task *t);
void tr_task_release(struct tr_task *t);
void tr_task_free(struct tr_loop *L, struct tr_task *t);

/* records.c */
int tr_push_tail(struct tr_loop *L, int block);
void tr_frame_header(struct tr_loop *L);
void tr_flush(struct tr_loop *L);
void tr_begin_batch(struct tr_loop *L);
void tr_rec_head(struct tr_loop *L, int type, unsigned int nfields, struct tr_task *t, int64_t ts);
void tr_rec_end(struct tr_loop *L, struct tr_task *t);
int tr_rec_room(struct tr_loop *L, size_t need);
void tr_rec_error(struct tr_loop *L, struct tr_task *t, int err, const char *msg);
void tr_emit_entry(struct tr_loop *L, struct tr_task *t);
void tr_split_others(struct tr_loop *L, struct tr_task *self);
void tr_emit_call(struct tr_loop *L, struct tr_task *t, int have_exit, int64_t ret, int is_error,
		  int64_t dur, const struct tr_buf *xmem, unsigned int xn, int64_t cpu, unsigned int flags);
void tr_emit_simple(struct tr_loop *L, int type, struct tr_task *t, int n, int64_t a, int64_t b2);
void tr_emit_exec(struct tr_loop *L, struct tr_task *t, int old, int pers);

/* memory.c */
#define TR_PAGE 4096
#define TR_PATH_MAX 4096
#define TR_MEM_KEEP 65536 /* a task keeps an entry buffer this large at most between calls */

ssize_t tr_peek(struct tr_task *t, void *dst, uint64_t addr, size_t len);
unsigned int tr_kvm_exit(struct tr_task *t, struct tr_buf *b, int64_t ret);
unsigned int tr_fetch(struct tr_loop *L, struct tr_task *t, const struct tr_pentry *pe, int phase,
		      struct tr_buf *b, int64_t ret);
int64_t tr_cpu(struct tr_task *t);

/* stops.c */
void tr_resume(struct tr_loop *L, struct tr_task *t, int sig);
void tr_on_status(struct tr_loop *L, int tid, int status);
void tr_stop_done(struct tr_loop *L);

/* CLOCK_MONOTONIC at the stop being handled: the time the wait returned it
 * (read once per stop, for the latency histogram), else now. */
static inline int64_t tr_stop_now(struct tr_loop *L)
{
	return L->stop_t0 ? L->stop_t0 : tr_now(CLOCK_MONOTONIC);
}
void tr_forget_all(struct tr_loop *L);
void tr_drain_wait(struct tr_loop *L);

/* ending.c */
void tr_passthru_begin(struct tr_loop *L);
void tr_end(struct tr_loop *L);
void tr_on_ctl(struct tr_loop *L);
void tr_on_tick(struct tr_loop *L);

/* seize.c */
int tr_seize(struct tr_loop *L, int tid, int tgid, int interrupt);
void tr_fail(struct tr_loop *L, const char *fmt, int a, int err);
int tr_attach_pid(struct tr_loop *L, int pid);

/* inject.c */
void tr_release_held(struct tr_loop *L);
int tr_inject_all(struct tr_loop *L);

/* tamper.c */
enum { TR_REPLAY_REWIND = 1, TR_REPLAY_ENTER = 2, TR_REPLAY_SECCOMP = 3 };
long tr_tamper_parse(struct tr_plan *pl, const unsigned char *p, size_t off, size_t len);
int tr_tamper_entry(struct tr_loop *L, struct tr_task *t, const struct tr_pentry *pe, struct tr_sysinfo *si);
int tr_tamper_replay(struct tr_loop *L, struct tr_task *t, int op);
int tr_tamper_wants_exit(struct tr_task *t);
void tr_tamper_resume(struct tr_loop *L, struct tr_task *t, int phase, int sig);
void tr_tamper_exit(struct tr_loop *L, struct tr_task *t, struct tr_sysinfo *si);
void tr_delay_hold(struct tr_loop *L, struct tr_task *t, uint64_t ns, int sig);
int64_t tr_delay_left(struct tr_loop *L);
void tr_delay_expire(struct tr_loop *L, int all);
void tr_tamper_forget(struct tr_loop *L, struct tr_task *t);
void tr_tamper_finish(struct tr_loop *L, struct tr_task *t);

/* sockdiag.c */
size_t tr_sock_detail(struct tr_loop *L, struct tr_task *t, int fd, unsigned long inode, char *out, size_t outsz);
void tr_sockdiag_free(struct tr_loop *L);

/* tracer.c */
void tr_loop_free(struct tr_loop *L);

#pragma GCC visibility pop

#endif /* TR_INTERNAL_H */
