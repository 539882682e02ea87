/* Family decoders of issue 13 (third round): bpf's attr by command
 * (BPF_PROG_LOAD's fields as far as the size reaches, KERNEL_VERSION(),
 * the bytes past the struct strace knows, an attr that cannot be read);
 * adjtimex/clock_adjtime's timex at exit and the clock state returned;
 * io_uring_setup's params (what it reads, and what it fills on success);
 * pidfd_send_signal's siginfo (an unknown si_errno unsigned, uid -1);
 * ptrace's arguments by request; control messages by level and type
 * (no cmsg_data below the least the type prints, SOL_IP's arrays,
 * timestamps, a header too short to go on: an ellipsis and the address);
 * setsockopt's ip_mreq (a shorter length: the address). */
#include "common.h"
#include <stdint.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <sys/ptrace.h>
#include <sys/timex.h>
#include <linux/io_uring.h>
#include <time.h>

static const char *rc(long r) {
	static char b[256];
	if (r >= 0) { snprintf(b, sizeof b, "%ld", r); return b; }
	const char *n = errno == E2BIG ? "E2BIG" : errno == EINVAL ? "EINVAL" : errno == EPERM ? "EPERM"
		: errno == EFAULT ? "EFAULT" : errno == EACCES ? "EACCES" : errno == EBADF ? "EBADF" : errno == ESRCH ? "ESRCH" : "E???";
	snprintf(b, sizeof b, "-1 %s (%s)", n, strerror(errno));
	return b;
}

#define LOAD_TAIL ", prog_flags=0, prog_name=\"\", prog_ifindex=0, expected_attach_type=BPF_CGROUP_INET_INGRESS, " \
	"prog_btf_fd=0, func_info_rec_size=0, func_info=NULL, func_info_cnt=0, line_info_rec_size=0, line_info=NULL, " \
	"line_info_cnt=0, attach_btf_id=0, attach_prog_fd=0, fd_array=NULL"

int main(int argc, char **argv) {
	open_out(argc, argv);
	char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(page + 4096, 4096);
	char *end = page + 4096;

	/* BPF_PROG_LOAD, the whole struct strace knows (128 bytes) */
	uint32_t *a = (uint32_t *) (end - 136);
	memset(a, 0, 136);
	a[0] = 32;            /* prog_type: unknown */
	a[1] = 0xbadc0ded;    /* insn_cnt */
	a[6] = 24;            /* log_level */
	a[7] = 3141592653U;   /* log_size */
	a[10] = 0xcafef00d;   /* kern_version */
	long r = syscall(SYS_bpf, G | 5, a, G | 128);
	EXPECT("bpf(BPF_PROG_LOAD, {prog_type=0x20 /* BPF_PROG_TYPE_??? */, insn_cnt=3134983661, insns=NULL, "
	       "license=NULL, log_level=24, log_size=3141592653, log_buf=NULL, kern_version=KERNEL_VERSION(51966, 240, 13)"
	       LOAD_TAIL "}, 128) = %s", rc(r));
	/* a size that stops before the log fields */
	r = syscall(SYS_bpf, 5, a, 20);
	EXPECT("bpf(BPF_PROG_LOAD, {prog_type=0x20 /* BPF_PROG_TYPE_??? */, insn_cnt=3134983661, insns=NULL, "
	       "license=NULL}, 20) = %s", rc(r));
	/* bytes past the struct: nonzero ones print (abbreviated: ...) */
	a[0] = 1;
	((char *) a)[130] = 1;
	r = syscall(SYS_bpf, 5, a, 136);
	EXPECT("bpf(BPF_PROG_LOAD, {prog_type=BPF_PROG_TYPE_SOCKET_FILTER, insn_cnt=3134983661, insns=NULL, "
	       "license=NULL, log_level=24, log_size=3141592653, log_buf=NULL, kern_version=KERNEL_VERSION(51966, 240, 13)"
	       LOAD_TAIL ", ...}, 136) = %s", rc(r));
	/* a short attr at the end of memory: the rest as zeros */
	uint32_t *s = (uint32_t *) (end - 4);
	*s = 1;
	r = syscall(SYS_bpf, 5, s, 4);
	EXPECT("bpf(BPF_PROG_LOAD, {prog_type=BPF_PROG_TYPE_SOCKET_FILTER, insn_cnt=0, insns=NULL, license=NULL}, 4) = %s",
	       rc(r));
	/* memory that ends before the size: the address */
	r = syscall(SYS_bpf, 5, s, 8);
	EXPECT("bpf(BPF_PROG_LOAD, %p, 8) = %s", (void *) s, rc(r));

	/* timex: read at exit; the state by name */
	struct timex *t = (struct timex *) (end - sizeof(struct timex));
	memset(t, 0, sizeof *t);
	r = syscall(SYS_adjtimex, t);
	static const char *const states[] = {"TIME_OK", "TIME_INS", "TIME_DEL", "TIME_OOP", "TIME_WAIT", "TIME_ERROR"};
	char st[64] = "";
	if (t->status == STA_UNSYNC) strcpy(st, "STA_UNSYNC");
	else snprintf(st, sizeof st, "%#x", t->status);  /* not expected here: no line would match */
	if (r >= 0 && r <= 5)
		EXPECT("adjtimex({modes=0, offset=%ld, freq=%ld, maxerror=%ld, esterror=%ld, status=%s, constant=%ld, "
		       "precision=%ld, tolerance=%ld, time={tv_sec=%ld, tv_usec=%ld}, tick=%ld, ppsfreq=%ld, jitter=%ld, "
		       "shift=%d, stabil=%ld, jitcnt=%ld, calcnt=%ld, errcnt=%ld, stbcnt=%ld, tai=%d}) = %ld (%s)",
		       t->offset, t->freq, t->maxerror, t->esterror, st, t->constant, t->precision, t->tolerance,
		       t->time.tv_sec, t->time.tv_usec, t->tick, t->ppsfreq, t->jitter, t->shift, t->stabil, t->jitcnt,
		       t->calcnt, t->errcnt, t->stbcnt, t->tai, r, states[r]);
	/* a struct that ends past memory: the address */
	r = syscall(SYS_clock_adjtime, CLOCK_REALTIME, end - 8);
	EXPECT("clock_adjtime(CLOCK_REALTIME, %p) = %s", (void *) (end - 8), rc(r));
	/* modes the kernel refuses: the address (the call failed) */
	t->modes = 0x8000;
	r = syscall(SYS_clock_adjtime, G | 77, t);
	EXPECT("clock_adjtime(0x4d /* CLOCK_??? */, %p) = %s", (void *) t, rc(r));

	/* io_uring_setup: flags it does not know, reserved words */
	struct io_uring_params *up = (struct io_uring_params *) (end - sizeof(*up));
	memset(up, 0, sizeof *up);
	up->flags = 0xfffff001;
	up->sq_thread_cpu = 0x8f8e8d8c;
	up->sq_thread_idle = 7;
	up->resv[1] = 0xa3;
	r = syscall(SYS_io_uring_setup, G | 1, up);
	EXPECT("io_uring_setup(1, {flags=IORING_SETUP_IOPOLL|0xfffff000, sq_thread_cpu=0x8f8e8d8c, sq_thread_idle=7, "
	       "resv=[0, 0xa3, 0]}) = %s", rc(r));
	/* success: the sizes, features and ring offsets it filled in */
	memset(up, 0, sizeof *up);
	r = syscall(SYS_io_uring_setup, 2, up);
	if (r >= 0) {
		char feat[512] = "";
		static const char *const fn[] = {"SINGLE_MMAP", "NODROP", "SUBMIT_STABLE", "RW_CUR_POS", "CUR_PERSONALITY",
			"FAST_POLL", "POLL_32BITS", "SQPOLL_NONFIXED", "EXT_ARG", "NATIVE_WORKERS", "RSRC_TAGS", "CQE_SKIP",
			"LINKED_FILE"};
		for (int k = 0; k < 13; k++)
			if (up->features & (1u << k))
				snprintf(feat + strlen(feat), sizeof feat - strlen(feat), "%sIORING_FEAT_%s", *feat ? "|" : "", fn[k]);
		if (up->features >> 13)
			snprintf(feat + strlen(feat), sizeof feat - strlen(feat), "%s%#x", *feat ? "|" : "", up->features & ~0x1fffu);
		EXPECT("io_uring_setup(2, {flags=0, sq_thread_cpu=0, sq_thread_idle=0, sq_entries=%u, cq_entries=%u, features=%s, "
		       "sq_off={head=%u, tail=%u, ring_mask=%u, ring_entries=%u, flags=%u, dropped=%u, array=%u}, "
		       "cq_off={head=%u, tail=%u, ring_mask=%u, ring_entries=%u, overflow=%u, cqes=%u, flags=%u}}) = %ld",
		       up->sq_entries, up->cq_entries, feat, up->sq_off.head, up->sq_off.tail, up->sq_off.ring_mask,
		       up->sq_off.ring_entries, up->sq_off.flags, up->sq_off.dropped, up->sq_off.array, up->cq_off.head,
		       up->cq_off.tail, up->cq_off.ring_mask, up->cq_off.ring_entries, up->cq_off.overflow, up->cq_off.cqes,
		       up->cq_off.flags, r);
		close(r);
	}

	/* pidfd_send_signal: the siginfo it would send */
	siginfo_t *si = (siginfo_t *) (end - sizeof(siginfo_t));
	memset(si, -1, sizeof *si);
	si->si_signo = SIGUSR1;
	si->si_code = SI_QUEUE;
	si->si_pid = getpid();
	r = syscall(SYS_pidfd_send_signal, G | 0xffffffffUL, G | SIGUSR2, si, G | 0xffffffffUL);
	EXPECT("pidfd_send_signal(-1, SIGUSR2, {si_signo=SIGUSR1, si_code=SI_QUEUE, si_errno=4294967295, si_pid=%d, "
	       "si_uid=-1, si_int=-1, si_ptr=0xffffffffffffffff}, 0xffffffff) = %s", getpid(), rc(r));

	/* ptrace: the arguments each request has */
	r = syscall(SYS_ptrace, PTRACE_ATTACH, 0x7ffffff0, 1, 2);
	EXPECT("ptrace(PTRACE_ATTACH, 2147483632) = %s", rc(r));
	r = syscall(SYS_ptrace, PTRACE_SETOPTIONS, 0x7ffffff0, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL | 0x800);
	EXPECT("ptrace(PTRACE_SETOPTIONS, 2147483632, NULL, PTRACE_O_TRACESYSGOOD|PTRACE_O_EXITKILL|0x800) = %s", rc(r));
	r = syscall(SYS_ptrace, PTRACE_SYSCALL, 0x7ffffff0, 0, SIGUSR1);
	EXPECT("ptrace(PTRACE_SYSCALL, 2147483632, NULL, SIGUSR1) = %s", rc(r));
	unsigned long *mask = (unsigned long *) (end - 8);
	*mask = 1UL << (SIGUSR1 - 1);
	r = syscall(SYS_ptrace, PTRACE_SETSIGMASK, 0x7ffffff0, 8, mask);
	EXPECT("ptrace(PTRACE_SETSIGMASK, 2147483632, 8, [USR1]) = %s", rc(r));
	r = syscall(SYS_ptrace, 0x420e /* PTRACE_GET_SYSCALL_INFO */, 0x7ffffff0, 0, NULL);
	EXPECT("ptrace(PTRACE_GET_SYSCALL_INFO, 2147483632, 0, NULL) = %s", rc(r));
	/* seccomp metadata's filter_off, peeksiginfo's arguments, the x86 requests by name */
	static unsigned long long md[2] = {5, 0};
	r = syscall(SYS_ptrace, 0x420d /* PTRACE_SECCOMP_GET_METADATA */, 0x7ffffff0, 16, md);
	EXPECT("ptrace(PTRACE_SECCOMP_GET_METADATA, 2147483632, 16, {filter_off=5}) = %s", rc(r));
	static struct { unsigned long long off; unsigned flags; int nr; } psa = {3, 1, 7};
	r = syscall(SYS_ptrace, 0x4209 /* PTRACE_PEEKSIGINFO */, 0x7ffffff0, &psa, NULL);
	EXPECT("ptrace(PTRACE_PEEKSIGINFO, 2147483632, {off=3, flags=PTRACE_PEEKSIGINFO_SHARED, nr=7}, NULL) = %s", rc(r));
	r = syscall(SYS_ptrace, 31 /* PTRACE_SYSEMU */, 0x7ffffff0, 0, SIGUSR2);
	EXPECT("ptrace(PTRACE_SYSEMU, 2147483632, NULL, SIGUSR2) = %s", rc(r));
	/* a register set's iovec (the set itself only once the call filled it) */
	static unsigned long long rset[4];
	static struct { void *base; unsigned long len; } riov = {rset, 24};
	r = syscall(SYS_ptrace, 0x4204 /* PTRACE_GETREGSET */, 0x7ffffff0, 1 /* NT_PRSTATUS */, &riov);
	EXPECT("ptrace(PTRACE_GETREGSET, 2147483632, NT_PRSTATUS, {iov_base=%p, iov_len=24}) = %s", (void *) rset, rc(r));

	/* control messages */
	struct msghdr mh = {0};
	unsigned char cbuf[48] __attribute__((aligned(8))) = {0};
	struct cmsghdr *cm = (struct cmsghdr *) cbuf;
	cm->cmsg_len = CMSG_LEN(0);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	mh.msg_control = cbuf;
	mh.msg_controllen = CMSG_LEN(0);
	r = syscall(SYS_sendmsg, -1, &mh, 0);
	EXPECT("sendmsg(-1, {msg_name=NULL, msg_namelen=0, msg_iov=NULL, msg_iovlen=0, msg_control=[{cmsg_len=16, "
	       "cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS}], msg_controllen=16, msg_flags=0}, 0) = %s", rc(r));
	cm->cmsg_len = CMSG_LEN(4);
	cm->cmsg_level = SOL_IP;
	cm->cmsg_type = IP_RECVOPTS;
	CMSG_DATA(cm)[0] = 1;
	cm = (struct cmsghdr *) (cbuf + 24);
	cm->cmsg_len = CMSG_LEN(4);
	cm->cmsg_level = SOL_IP;
	cm->cmsg_type = IP_TTL;
	*(int *) CMSG_DATA(cm) = 64;
	mh.msg_controllen = 48;
	r = syscall(SYS_sendmsg, -1, &mh, 0);
	EXPECT("sendmsg(-1, {msg_name=NULL, msg_namelen=0, msg_iov=NULL, msg_iovlen=0, msg_control=[{cmsg_len=20, "
	       "cmsg_level=SOL_IP, cmsg_type=IP_RECVOPTS, cmsg_data=[0x1, 0, 0, 0]}, {cmsg_len=20, cmsg_level=SOL_IP, "
	       "cmsg_type=IP_TTL, cmsg_data=[64]}], msg_controllen=48, msg_flags=0}, 0) = %s", rc(r));
	cm = (struct cmsghdr *) cbuf;
	cm->cmsg_len = CMSG_LEN(16);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SO_TIMESTAMPNS_OLD;
	long long *tsv = (long long *) CMSG_DATA(cm);
	tsv[0] = 123456789;
	tsv[1] = 987654321;
	mh.msg_controllen = 32;
	r = syscall(SYS_sendmsg, -1, &mh, 0);
	EXPECT("sendmsg(-1, {msg_name=NULL, msg_namelen=0, msg_iov=NULL, msg_iovlen=0, msg_control=[{cmsg_len=32, "
	       "cmsg_level=SOL_SOCKET, cmsg_type=SO_TIMESTAMPNS_OLD, cmsg_data={tv_sec=123456789, tv_nsec=987654321}}], "
	       "msg_controllen=32, msg_flags=0}, 0) = %s", rc(r));
	cm->cmsg_len = 3;
	cm->cmsg_type = SCM_RIGHTS;
	mh.msg_controllen = 17;
	r = syscall(SYS_sendmsg, -1, &mh, 0);
	EXPECT("sendmsg(-1, {msg_name=NULL, msg_namelen=0, msg_iov=NULL, msg_iovlen=0, msg_control=[{cmsg_len=3, "
	       "cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS}, ... /* %p */], msg_controllen=17, msg_flags=0}, 0) = %s",
	       (void *) (cbuf + 16), rc(r));

	/* setsockopt's ip_mreq */
	struct ip_mreq *mr = (struct ip_mreq *) (end - sizeof(struct ip_mreq));
	mr->imr_multiaddr.s_addr = htonl(0xe0000003);
	mr->imr_interface.s_addr = htonl(0x7f000001);
	r = syscall(SYS_setsockopt, -1, SOL_IP, IP_ADD_MEMBERSHIP, mr, 8);
	EXPECT("setsockopt(-1, SOL_IP, IP_ADD_MEMBERSHIP, {imr_multiaddr=inet_addr(\"224.0.0.3\"), "
	       "imr_interface=inet_addr(\"127.0.0.1\")}, 8) = %s", rc(r));
	r = syscall(SYS_setsockopt, -1, SOL_IP, IP_DROP_MEMBERSHIP, mr, 7);
	EXPECT("setsockopt(-1, SOL_IP, IP_DROP_MEMBERSHIP, %p, 7) = %s", (void *) mr, rc(r));
	return 0;
}
