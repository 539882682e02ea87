/* Structs and arrays read by the calls of issue 13's struct work: select's
 * fd sets (nfds bits), sched_attr by its size, fcntl's flock, mq_attr,
 * sembuf and futex_waitv arrays (an element past the mapping ends the
 * array with `... ADDR-comment`), a set that cannot be read whole printed
 * as its address. */
#include "common.h"
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/sem.h>
#include <linux/futex.h>
#include <linux/types.h>
#include <time.h>

struct attr { __u32 size, policy; __u64 flags; __s32 nice; __u32 prio; __u64 runtime, deadline, period; __u32 umin, umax; };
struct waiter { __u64 val, uaddr; __u32 flags, rsv; };
struct mqa { long flags, maxmsg, msgsize, curmsgs, pad[4]; };

static const char *rc(long r) {
	static char b[128];
	if (r >= 0)
		snprintf(b, sizeof b, "%ld", r);
	else if (errno == EFAULT)
		snprintf(b, sizeof b, "-1 EFAULT (Bad address)");
	else if (errno == E2BIG)
		snprintf(b, sizeof b, "-1 E2BIG (Argument list too long)");
	else
		snprintf(b, sizeof b, "-1 errno %d", errno);
	return b;
}

int main(int argc, char **argv) {
	open_out(argc, argv);
	char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(page + 4096, 4096);
	char *end = page + 4096;

	/* select: a pipe's ends, writable at once */
	int p[2];
	if (pipe(p))
		return 1;
	fd_set rd, wr;
	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_SET(p[0], &rd);
	FD_SET(p[1], &wr);
	struct timeval tv = { 0, 0 };
	long r = syscall(SYS_select, G | (p[1] + 1), &rd, &wr, NULL, &tv);
	EXPECT("select(%d, [%d], [%d], NULL, {tv_sec=0, tv_usec=0}) = %ld (out [%d], left {tv_sec=0, tv_usec=0})",
	       p[1] + 1, p[0], p[1], r, p[1]);
	/* 65 fds need 16 bytes: 8 are readable */
	memset(end - 8, 0, 8);
	r = syscall(SYS_select, 65, end - 8, NULL, NULL, &tv);
	EXPECT("select(65, %p, NULL, NULL, {tv_sec=0, tv_usec=0}) = %s", (void *) (end - 8), r == 0 ? "0 (Timeout)" : rc(r));

	/* sched_attr: what the kernel wrote; a size too small is E2BIG, and the
	 * size it knows is written back */
	struct attr *a = (struct attr *) (end - sizeof *a);
	memset(a, 0, sizeof *a);
	r = syscall(SYS_sched_getattr, 0, a, G | sizeof *a, G);
	EXPECT("sched_getattr(0, {size=%u, sched_policy=SCHED_OTHER, sched_flags=0, sched_nice=%d, sched_priority=%u, "
	       "sched_runtime=%llu, sched_deadline=%llu, sched_period=%llu, sched_util_min=%u, sched_util_max=%u}, %zu, 0) = %ld",
	       a->size, a->nice, a->prio, (unsigned long long) a->runtime, (unsigned long long) a->deadline,
	       (unsigned long long) a->period, a->umin, a->umax, sizeof *a, r);
	memset(a, 0, sizeof *a);
	a->size = 3;
	r = syscall(SYS_sched_setattr, 0, a, 0);
	EXPECT("sched_setattr(0, {size=3} => {size=%u}, 0) = %s", a->size, rc(r));

	/* fcntl: a read lock set, then asked about */
	int fd = syscall(SYS_memfd_create, "sets", 0);
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10 };
	r = syscall(SYS_fcntl, fd, F_SETLK, &fl);
	EXPECT("fcntl(%d, F_SETLK, {l_type=F_RDLCK, l_whence=SEEK_SET, l_start=0, l_len=10}) = %ld", fd, r);
	fl.l_type = F_WRLCK;
	fl.l_start = 5;
	r = syscall(SYS_fcntl, fd, F_OFD_GETLK, &fl);
	EXPECT("fcntl(%d, F_OFD_GETLK, {l_type=%s, l_whence=SEEK_SET, l_start=%lld, l_len=%lld, l_pid=%d}) = %ld", fd,
	       fl.l_type == F_UNLCK ? "F_UNLCK" : fl.l_type == F_RDLCK ? "F_RDLCK" : "F_WRLCK", (long long) fl.l_start,
	       (long long) fl.l_len, fl.l_pid, r);

	/* mq_attr: mq_open's in hex, mq_getsetattr's flags by name */
	char name[64];
	snprintf(name, sizeof name, "tracerd-sets-%d", getpid());
	struct mqa qa = { 0, 4, 64, 0, { 0 } }, old;
	int q = syscall(SYS_mq_open, name, O_RDWR | O_CREAT | O_EXCL, 0600, &qa);
	if (q >= 0) {
		EXPECT("mq_open(\"%s\", O_RDWR|O_CREAT|O_EXCL, 0600, {mq_flags=0, mq_maxmsg=4, mq_msgsize=64, mq_curmsgs=0}) = %d", name, q);
		r = syscall(SYS_mq_getsetattr, q, NULL, &old);
		EXPECT("mq_getsetattr(%d, NULL, {mq_flags=0, mq_maxmsg=%ld, mq_msgsize=%ld, mq_curmsgs=%ld}) = %ld", q,
		       old.maxmsg, old.msgsize, old.curmsgs, r);
		r = syscall(SYS_mq_unlink, name);
		EXPECT("mq_unlink(\"%s\") = %ld", name, r);
	}

	/* sembuf: one element, then one whose successor is past the mapping */
	int id = syscall(SYS_semget, IPC_PRIVATE, 1, 0600);
	struct sembuf sb = { 0, 1, SEM_UNDO };
	r = syscall(SYS_semop, id, &sb, G | 1);
	EXPECT("semop(%d, [{sem_num=0, sem_op=1, sem_flg=SEM_UNDO}], 1) = %ld", id, r);
	struct sembuf *last = (struct sembuf *) end - 1;
	*last = (struct sembuf) { 0, -1, IPC_NOWAIT | SEM_UNDO };
	r = syscall(SYS_semop, id, last, 2);
	EXPECT("semop(%d, [{sem_num=0, sem_op=-1, sem_flg=SEM_UNDO|IPC_NOWAIT}, ... /* %p */], 2) = %s", id,
	       (void *) end, rc(r));
	syscall(SYS_semctl, id, 0, IPC_RMID, 0);

	/* futex_waitv: the same at the end of the mapping */
	static __u32 word;
	struct waiter *w = (struct waiter *) end - 1;
	*w = (struct waiter) { 1, (unsigned long) &word, 2 | 128, 0 };
	r = syscall(449, w, 2, 0, NULL, CLOCK_MONOTONIC);
	EXPECT("futex_waitv([{val=0x1, uaddr=%p, flags=FUTEX_32|FUTEX_PRIVATE_FLAG}, ... /* %p */], 2, 0, NULL, CLOCK_MONOTONIC) = %s",
	       (void *) &word, (void *) end, rc(r));
	r = syscall(449, w, 0, 0, NULL, CLOCK_MONOTONIC);
	EXPECT("futex_waitv([], 0, 0, NULL, CLOCK_MONOTONIC) = %s", r == -1 && errno == EINVAL ? "-1 EINVAL (Invalid argument)" : rc(r));
	return 0;
}
