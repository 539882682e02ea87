/* Family decoders of issue 13 (second round): words the calls read or
 * write through a pointer as [N] (copy_file_range's and splice's offsets,
 * sendfile's `[old] => [new]`, get_robust_list's head and length),
 * clone3's struct by strace's rules (fields by flag, 64-bit flags, the
 * bytes past the struct it knows: zero, shown in hex, or ??? when they
 * cannot be read), getsockopt/setsockopt names and values by level and
 * option, getpriority's who, quotactl's QCMD() and structs, an iovec
 * array that runs into unreadable memory, rt_sigprocmask's size check,
 * remap_file_pages' flags, SysV message queues' structs and messages,
 * execve's unreadable argument strings and arrays, move_pages' arrays,
 * iovecs as addresses (a failed preadv, process_vm_writev's remote ones). */
#include "common.h"
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/types.h>
#include <linux/quota.h>
#include <sys/uio.h>
#include <sys/ipc.h>
#include <sys/msg.h>

struct cargs { __u64 flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup; };

int main(int argc, char **argv) {
	open_out(argc, argv);
	char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(page + 4096, 4096);
	char *end = page + 4096;

	/* offsets read by the call: signed 64-bit words */
	long long *off = (long long *) (end - 16);
	off[0] = -2;
	off[1] = 1234567890123LL;
	long r = syscall(SYS_copy_file_range, G | 0xffffffffUL, &off[0], G | 0xfffffffeUL, &off[1], 5, G);
	EXPECT("copy_file_range(-1, [-2], -2, [1234567890123], 5, 0) = -1 EBADF (Bad file descriptor)");
	r = syscall(SYS_splice, G | 0xffffffffUL, &off[0], G | 0xfffffffeUL, NULL, 5, G | 1);
	EXPECT("splice(-1, [-2], -2, NULL, 5, SPLICE_F_MOVE) = -1 EBADF (Bad file descriptor)");

	/* sendfile: the offset as given, and where the call left it */
	int p[2];
	if (pipe(p))
		return 1;
	int fd = open("/proc/self/exe", O_RDONLY);
	off[0] = 0;
	r = syscall(SYS_sendfile, p[1], fd, &off[0], 3);
	EXPECT("sendfile(%d, %d, [0] => [3], 3) = %ld", p[1], fd, r);

	/* get_robust_list: what it wrote */
	unsigned long *w = (unsigned long *) (end - 16);
	r = syscall(SYS_get_robust_list, 0, &w[0], &w[1]);
	EXPECT("get_robust_list(0, [%#lx], [%lu]) = %ld", w[0], w[1], r);

	/* clone3: flags the kernel refuses, so no child; the fields by flag */
	struct cargs *ca = (struct cargs *) (end - sizeof *ca);
	memset(ca, 0, sizeof *ca);
	ca->flags = 0x100001000ULL | 0xbad0000000000000ULL; /* CLONE_PIDFD|CLONE_CLEAR_SIGHAND|junk */
	ca->exit_signal = SIGCHLD;
	r = syscall(SYS_clone3, ca, 64);
	EXPECT("clone3({flags=CLONE_PIDFD|CLONE_CLEAR_SIGHAND|0xbad0000000000000, pidfd=NULL, exit_signal=SIGCHLD, stack=NULL, stack_size=0}, 64) = -1 EINVAL (Invalid argument)");
	/* a size past the known 88 bytes that runs off the mapping */
	ca->flags = 0;
	ca->exit_signal = 0;
	r = syscall(SYS_clone3, ca, 96);
	EXPECT("clone3({flags=0, exit_signal=0, stack=NULL, stack_size=0, ???}, 96) = -1 EFAULT (Bad address)");
	/* nonzero bytes past it, in hex */
	struct cargs *cb = (struct cargs *) (end - sizeof *cb - 8);
	memset(cb, 0, sizeof *cb + 8);
	cb->exit_signal = 0xfacefeeddeadbeefULL;
	memcpy(end - 8, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	r = syscall(SYS_clone3, cb, 96);
	EXPECT("clone3({flags=0, exit_signal=%llu, stack=NULL, stack_size=0, /* bytes 88..95 */ \"\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08\"}, 96) = -1 E2BIG (Argument list too long)", (unsigned long long) cb->exit_signal);

	/* socket options: names by level, values by option */
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	int *iv = (int *) (end - 4);
	socklen_t *len = (socklen_t *) (end - 12);
	*len = 4;
	r = syscall(SYS_getsockopt, s, SOL_SOCKET, SO_ERROR, iv, len);
	EXPECT("getsockopt(%d, SOL_SOCKET, SO_ERROR, [0], [4]) = 0", s);
	*len = 8;
	struct { int on, secs; } *lg = (void *) (end - 8);
	r = syscall(SYS_getsockopt, s, SOL_SOCKET, SO_LINGER, lg, len);
	EXPECT("getsockopt(%d, SOL_SOCKET, SO_LINGER, {l_onoff=0, l_linger=0}, [8]) = 0", s);
	*len = 3;
	r = syscall(SYS_getsockopt, s, SOL_SOCKET, SO_LINGER, lg, len);
	EXPECT("getsockopt(%d, SOL_SOCKET, SO_LINGER, {l_onoff=\"\\x00\\x00\\x00\"}, [3]) = 0", s);
	r = syscall(SYS_setsockopt, G | 0xffffffffUL, SOL_PACKET, G | 0xffffffffUL, NULL, 0);
	EXPECT("setsockopt(-1, SOL_PACKET, 0xffffffff /* PACKET_??? */, NULL, 0) = -1 EBADF (Bad file descriptor)");
	r = syscall(SYS_getsockopt, G | 0xffffffffUL, SOL_RAW, 1, NULL, NULL);
	EXPECT("getsockopt(-1, SOL_RAW, ICMP_FILTER, NULL, NULL) = -1 EBADF (Bad file descriptor)");
	*len = 4096;
	r = syscall(SYS_getsockopt, G | 0xffffffffUL, SOL_SOCKET, 26, NULL, len);
	EXPECT("getsockopt(-1, SOL_SOCKET, SO_GET_FILTER, NULL, [4096]) = -1 EBADF (Bad file descriptor)");
	r = syscall(SYS_setsockopt, G | 0xffffffffUL, 0x1234, 7, NULL, 0);
	EXPECT("setsockopt(-1, 0x1234 /* SOL_?? */, 7, NULL, 0) = -1 EBADF (Bad file descriptor)");

	/* getpriority: who is a pid for PRIO_PROCESS */
	r = syscall(SYS_getpriority, 0, 0);
	EXPECT("getpriority(PRIO_PROCESS, 0) = %ld", r);

	/* quotactl: QCMD(), the data by command */
	r = syscall(SYS_quotactl, QCMD(Q_SYNC, 0xff), NULL, 0, NULL);
	EXPECT("quotactl(QCMD(Q_SYNC, 0xff /* ???QUOTA */), NULL) = -1 EINVAL (Invalid argument)");
	struct if_dqinfo *di = (struct if_dqinfo *) (end - sizeof *di);
	di->dqi_bgrace = 1;
	di->dqi_igrace = 2;
	di->dqi_flags = 0x10001;
	di->dqi_valid = 0x84;
	r = syscall(SYS_quotactl, QCMD(Q_SETINFO, USRQUOTA), "/dev/bogus/", 0, di);
	EXPECT("quotactl(QCMD(Q_SETINFO, USRQUOTA), \"/dev/bogus/\", {dqi_bgrace=1, dqi_igrace=2, dqi_flags=DQF_ROOT_SQUASH|DQF_SYS_FILE, dqi_valid=IIF_FLAGS|0x80}) = -1 ENOENT (No such file or directory)");

	/* an iovec array whose second element is past the mapping */
	struct iovec *iov = (struct iovec *) (end - sizeof *iov);
	iov->iov_base = "abc";
	iov->iov_len = 3;
	r = syscall(SYS_writev, G | 0xffffffffUL, iov, 2);
	EXPECT("writev(-1, [{iov_base=\"abc\", iov_len=3}, ... /* %p */], 2) = -1 EBADF (Bad file descriptor)", (void *) end);

	/* rt_sigprocmask reads no set of another size than 8 */
	r = syscall(SYS_rt_sigprocmask, SIG_SETMASK, end - 8, end - 16, 16);
	EXPECT("rt_sigprocmask(SIG_SETMASK, %p, %p, 16) = -1 EINVAL (Invalid argument)", (void *) (end - 8), (void *) (end - 16));

	/* remap_file_pages: prot a 64-bit word, flags as mmap's */
	r = syscall(SYS_remap_file_pages, 0, 0, 7, 0, 0x22);
	EXPECT("remap_file_pages(NULL, 0, PROT_READ|PROT_WRITE|PROT_EXEC, 0, MAP_PRIVATE|MAP_ANONYMOUS) = -1 EINVAL (Invalid argument)");

	/* msgsnd/msgrcv's struct msgbuf; msgctl's buffer by command */
	int q = syscall(SYS_msgget, IPC_PRIVATE, 0600);
	EXPECT("msgget(IPC_PRIVATE, 0600) = %d", q);
	struct { long mtype; char mtext[8]; } *mb = (void *) (end - 16);
	mb->mtype = 42;
	memcpy(mb->mtext, "hello\0\1\2", 8);
	r = syscall(SYS_msgsnd, q, mb, 6, 0);
	EXPECT("msgsnd(%d, {mtype=42, mtext=\"hello\\0\"}, 6, 0) = 0", q);
	r = syscall(SYS_msgrcv, q, mb, 6, 0, IPC_NOWAIT);
	EXPECT("msgrcv(%d, {mtype=42, mtext=\"hello\\0\"}, 6, 0, IPC_NOWAIT) = 6", q);
	struct msginfo *mi = (struct msginfo *) (end - sizeof *mi);
	r = syscall(SYS_msgctl, q, IPC_INFO, mi);
	EXPECT("msgctl(%d, IPC_INFO, {msgpool=%d, msgmap=%d, msgmax=%d, msgmnb=%d, msgmni=%d, msgssz=%d, msgtql=%d, msgseg=%u}) = %ld",
	       q, mi->msgpool, mi->msgmap, mi->msgmax, mi->msgmnb, mi->msgmni, mi->msgssz, mi->msgtql, mi->msgseg, r);
	r = syscall(SYS_msgctl, q, IPC_RMID, NULL);
	EXPECT("msgctl(%d, IPC_RMID, NULL) = 0", q);

	/* sethostname: a name longer than 64 bytes is its address */
	r = syscall(SYS_sethostname, NULL, G | 64);
	EXPECT("sethostname(NULL, 64) = -1 EFAULT (Bad address)");
	r = syscall(SYS_sethostname, end - 65, 65);
	EXPECT("sethostname(%p, 65) = -1 EINVAL (Invalid argument)", (void *) (end - 65));

	/* execve: an argument that cannot be read is its pointer; an array that
	 * runs into unreadable memory ends with its address (an environment:
	 * `unterminated`) */
	char **av = (char **) (end - 3 * sizeof(char *));
	av[0] = "a";
	av[1] = (char *) -1L;
	char **ev = av + 2; /* the environment is the array's last element */
	ev[0] = "X=1";
	r = syscall(SYS_execve, "/nonexistent/x", av, ev);
	EXPECT("execve(\"/nonexistent/x\", [\"a\", 0xffffffffffffffff, \"X=1\", ... /* %p */], %p /* 1 var, unterminated */) = -1 ENOENT (No such file or directory)",
	       (void *) end, (void *) ev);

	/* move_pages' arrays: pages and nodes at entry, the status written */
	void **pg = (void **) (end - 16);
	int *st = (int *) (end - 8);
	r = syscall(SYS_move_pages, 0, 0, pg, NULL, st, 2);
	EXPECT("move_pages(0, 0, [], NULL, [], MPOL_MF_MOVE) = %ld", r);
	pg[0] = page;
	page[0] = 1;
	r = syscall(SYS_move_pages, 0, 1, pg, NULL, st, 2);
	EXPECT("move_pages(0, 1, [%p], NULL, [%d], MPOL_MF_MOVE) = %ld", (void *) page, st[0], r);

	/* readv-family vectors when the call fails: their addresses; another
	 * process's vectors (process_vm_writev): addresses */
	struct iovec *rv = (struct iovec *) (end - sizeof *rv);
	rv->iov_base = page;
	rv->iov_len = 8;
	r = syscall(SYS_preadv, G | 0xffffffffUL, rv, 1, 0, 0);
	EXPECT("preadv(-1, [{iov_base=%p, iov_len=8}], 1, 0) = -1 EBADF (Bad file descriptor)", (void *) page);
	memcpy(page, "xyz", 3);
	struct iovec lv = { page, 3 };
	r = syscall(SYS_process_vm_writev, 0, &lv, 1, rv, 1, 0);
	EXPECT("process_vm_writev(0, [{iov_base=\"xyz\", iov_len=3}], 1, [{iov_base=%p, iov_len=8}], 1, 0) = %s",
	       (void *) page, r >= 0 ? "3" : errno == ESRCH ? "-1 ESRCH (No such process)" : "-1 EPERM (Operation not permitted)");
	return 0;
}
