/* Second-level memory and fds inside structs (the fetch plan's DEREF, FD_AT
 * and COND ops), traced with -y -v: clone3's set_tid and what it writes,
 * pselect6's and io_pgetevents' sigset pointer, seccomp's and
 * SO_ATTACH_FILTER's programs, kcmp's epoll slot and fds, io_uring_setup's
 * wq_fd, mount_setattr's userns_fd, SECCOMP_IOCTL_NOTIF_ADDFD's srcfd,
 * kexec_load's segments, AF_XDP's shared umem fd (connect), BLKPG's
 * partition and BLKTRACESETUP. Each fd named is closed right after its call:
 * only a name read at the stop is right. */
#include "common.h"
#include <linux/sched.h>
#include <linux/filter.h>
#include <linux/kcmp.h>
#include <linux/mount.h>
#include <linux/seccomp.h>
#include <linux/io_uring.h>
#include <linux/if_xdp.h>
#include <linux/blkpg.h>
#include <linux/blktrace_api.h>
#include <linux/fs.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdint.h>
#include <sys/mman.h>
#include <linux/kvm.h>

struct clone_args_v2 {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

/* the result as strace prints it, for calls whose error depends on the kernel */
static const char *rc(long r) {
	static char b[128];
	static const struct { int e; const char *n; } names[] = {
		{ EINVAL, "EINVAL" }, { ENOSYS, "ENOSYS" }, { ENOENT, "ENOENT" }, { EPERM, "EPERM" }, { EBADF, "EBADF" },
	};
	if (r >= 0) {
		snprintf(b, sizeof b, "%ld", r);
		return b;
	}
	int e = errno;
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].e == e)
			snprintf(b, sizeof b, "-1 %s (%s)", names[i].n, strerror(e));
	return b;
}

int main(int argc, char **argv) {
	open_out(argc, argv);
	long r;
	/* clone3: flags the kernel refuses before anything, tids behind set_tid */
	struct clone_args_v2 ca = { .flags = 0xbad0000000000000ULL };
	int tids[2] = { 7, 8 };
	ca.set_tid = (uintptr_t) tids;
	ca.set_tid_size = 2;
	r = syscall(SYS_clone3, &ca, sizeof(ca));
	EXPECT("clone3({flags=0xbad0000000000000 /* CLONE_??? */, exit_signal=0, stack=NULL, stack_size=0, set_tid=[7, 8], set_tid_size=2}, 88) = -1 EINVAL (Invalid argument)");
	/* clone3 that makes a child: the pidfd and parent tid it wrote */
	int pidfd = -1, ptid = 0;
	struct clone_args_v2 cb = { .flags = CLONE_PIDFD | CLONE_PARENT_SETTID, .pidfd = (uintptr_t) &pidfd,
				    .parent_tid = (uintptr_t) &ptid, .exit_signal = SIGCHLD };
	r = syscall(SYS_clone3, &cb, 64);
	if (r == 0)
		syscall(SYS_exit, 0);
	waitpid(r, NULL, 0);
	close(pidfd);
	EXPECT("clone3({flags=CLONE_PIDFD|CLONE_PARENT_SETTID, pidfd=%p, parent_tid=%p, exit_signal=SIGCHLD, stack=NULL, stack_size=0} => {pidfd=[%d<anon_inode:[pidfd]>], parent_tid=[%ld]}, 64) = %ld",
	       &pidfd, &ptid, pidfd, r, r);
	/* pselect6's {sigmask, sigsetsize}: the set behind its pointer */
	uint64_t mask = (1ULL << (SIGHUP - 1)) | (1ULL << (SIGCHLD - 1));
	struct { void *p; size_t n; } sp = { &mask, 8 }, sbad = { &mask, 7 };
	struct timespec ts = { 0, 1 };
	r = syscall(SYS_pselect6, 0, NULL, NULL, NULL, &ts, &sp);
	EXPECT("pselect6(0, NULL, NULL, NULL, {tv_sec=0, tv_nsec=1}, {sigmask=[HUP CHLD], sigsetsize=8}) = 0 (Timeout)");
	ts.tv_nsec = 1;
	r = syscall(SYS_pselect6, 0, NULL, NULL, NULL, &ts, &sbad);
	EXPECT("pselect6(0, NULL, NULL, NULL, {tv_sec=0, tv_nsec=1}, {sigmask=%p, sigsetsize=7}) = -1 EINVAL (Invalid argument)", &mask);
	uint64_t sys = 1ULL << (SIGSYS - 1);
	struct { void *p; size_t n; } ss = { &sys, 8 };
	r = syscall(SYS_io_pgetevents, 0, 0, 0, NULL, NULL, &ss);
	EXPECT("io_pgetevents(NULL, 0, 0, NULL, NULL, {sigmask=[SYS], sigsetsize=8}) = -1 EINVAL (Invalid argument)");
	/* seccomp's program under -v: it does not end with a return, refused */
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 4),
		BPF_JUMP(BPF_JMP | BPF_K | BPF_JEQ, 62, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 1),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
	};
	struct sock_fprog prog = { 4, f };
	r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
	EXPECT("seccomp(SECCOMP_SET_MODE_FILTER, 0, {len=4, filter=[BPF_STMT(BPF_LD|BPF_W|BPF_ABS, 0x4), BPF_JUMP(BPF_JMP|BPF_K|BPF_JEQ, 0x3e, 0, 0x1), BPF_STMT(BPF_RET|BPF_K, SECCOMP_RET_ERRNO|0x1), BPF_STMT(BPF_LD|BPF_W|BPF_ABS, 0)]}) = -1 EINVAL (Invalid argument)");
	/* a program running into unreadable memory: what is readable, then where it ends */
	char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(page + 4096, 4096);
	struct sock_filter *edge = (struct sock_filter *) (page + 4096) - 1;
	edge[0] = (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog pe = { 3, edge };
	r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &pe);
	EXPECT("seccomp(SECCOMP_SET_MODE_FILTER, 0, {len=3, filter=[BPF_STMT(BPF_RET|BPF_K, SECCOMP_RET_ALLOW), ... /* %p */]}) = -1 EFAULT (Bad address)", page + 4096);
	/* SO_ATTACH_FILTER: a socket filter's own names */
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct stat st;
	fstat(s, &st);
	struct sock_filter sf[] = { BPF_STMT(BPF_LD | BPF_B | BPF_ABS, SKF_AD_OFF + SKF_AD_PROTOCOL), BPF_STMT(BPF_RET | BPF_K, 0xffff) };
	struct sock_fprog sp2 = { 2, sf };
	r = syscall(SYS_setsockopt, s, SOL_SOCKET, SO_ATTACH_FILTER, &sp2, sizeof(sp2));
	EXPECT("setsockopt(%d<socket:[%lu]>, SOL_SOCKET, SO_ATTACH_FILTER, {len=2, filter=[BPF_STMT(BPF_LD|BPF_B|BPF_ABS, SKF_AD_OFF+SKF_AD_PROTOCOL), BPF_STMT(BPF_RET|BPF_K, 0xffff)]}, 16) = 0",
	       s, (unsigned long) st.st_ino);
	close(s);
	/* kcmp: fds of the caller, and an epoll slot's */
	int nul = open("/dev/null", O_RDONLY), zero = open("/dev/zero", O_RDONLY);
	long me = syscall(SYS_getpid);
	r = syscall(SYS_kcmp, me, me, KCMP_FILE, nul, zero);
	EXPECT("kcmp(%ld, %ld, KCMP_FILE, %d</dev/null>, %d</dev/zero>) = %ld", me, me, nul, zero, r);
	struct kcmp_epoll_slot slot = { zero, nul, 5 };
	r = syscall(SYS_kcmp, me, me, KCMP_EPOLL_TFD, nul, &slot);
	EXPECT("kcmp(%ld, %ld, KCMP_EPOLL_TFD, %d</dev/null>, {efd=%d</dev/zero>, tfd=%d</dev/null>, toff=5}) = -1 EINVAL (Invalid argument)",
	       me, me, nul, zero, nul);
	/* SECCOMP_IOCTL_NOTIF_ADDFD's srcfd, named at the stop */
	struct seccomp_notif_addfd add = { .id = 1, .srcfd = zero };
	r = syscall(SYS_ioctl, -1, SECCOMP_IOCTL_NOTIF_ADDFD, &add);
	EXPECT("ioctl(-1, SECCOMP_IOCTL_NOTIF_ADDFD, {id=0x1, flags=0, srcfd=%d</dev/zero>, newfd=0, newfd_flags=0}) = -1 EBADF (Bad file descriptor)", zero);
	/* io_uring_setup's wq_fd */
	struct io_uring_params up = { .flags = IORING_SETUP_ATTACH_WQ, .wq_fd = nul };
	r = syscall(SYS_io_uring_setup, 1, &up);
	EXPECT("io_uring_setup(1, {flags=IORING_SETUP_ATTACH_WQ, sq_thread_cpu=0, sq_thread_idle=0, wq_fd=%d</dev/null>}) = -1 EINVAL (Invalid argument)", nul);
	/* mount_setattr's userns_fd */
	struct mount_attr ma = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = zero };
	r = syscall(SYS_mount_setattr, -1, "/nonexistent", 0, &ma, sizeof(ma));
	EXPECT("mount_setattr(-1, \"/nonexistent\", 0, {attr_set=MOUNT_ATTR_IDMAP, attr_clr=0, propagation=0 /* MS_??? */, userns_fd=%d</dev/zero>}, 32) = %s", zero, rc(r));
	/* AF_XDP's XDP_SHARED_UMEM fd, in a 16-byte address */
	struct sockaddr_xdp sx = { .sxdp_family = AF_XDP, .sxdp_flags = XDP_SHARED_UMEM, .sxdp_queue_id = 3,
				   .sxdp_shared_umem_fd = zero };
	r = connect(-1, (struct sockaddr *) &sx, sizeof(sx));
	EXPECT("connect(-1, {sa_family=AF_XDP, sxdp_flags=XDP_SHARED_UMEM, sxdp_ifindex=0, sxdp_queue_id=3, sxdp_shared_umem_fd=%d</dev/zero>}, 16) = -1 EBADF (Bad file descriptor)", zero);
	/* BLKPG: the partition behind data (whatever the op), an unreadable one */
	struct blkpg_partition part = { .start = 4096, .length = -2, .pno = 7 };
	memset(part.devname, 'd', sizeof(part.devname));
	strcpy(part.volname, "vol");
	struct blkpg_ioctl_arg pg = { .op = BLKPG_ADD_PARTITION, .flags = 1, .datalen = sizeof(part), .data = &part };
	r = ioctl(-1, BLKPG, &pg);
	EXPECT("ioctl(-1, BLKPG, {op=BLKPG_ADD_PARTITION, flags=1, datalen=152, data={start=4096, length=-2, pno=7, devname=\"%.63s\"..., volname=\"vol\"}}) = -1 EBADF (Bad file descriptor)", part.devname);
	pg.op = BLKPG_DEL_PARTITION;
	pg.data = (void *) 0x10;
	r = ioctl(-1, BLKPG, &pg);
	EXPECT("ioctl(-1, BLKPG, {op=BLKPG_DEL_PARTITION, flags=1, datalen=152, data=0x10}) = -1 EBADF (Bad file descriptor)");
	pg.op = 9;
	pg.data = &part;
	r = ioctl(-1, BLKPG, &pg);
	EXPECT("ioctl(-1, BLKPG, {op=0x9 /* BLKPG_??? */, flags=1, datalen=152, data={start=4096, length=-2, pno=7, devname=\"%.63s\"..., volname=\"vol\"}}) = -1 EBADF (Bad file descriptor)", part.devname);
	struct blk_user_trace_setup bt = { .name = "x", .act_mask = 3, .buf_size = 4096, .buf_nr = 2, .start_lba = 1,
					   .end_lba = 99, .pid = 1 };
	r = ioctl(-1, BLKTRACESETUP, &bt);
	EXPECT("ioctl(-1, BLKTRACESETUP, {act_mask=3, buf_size=4096, buf_nr=2, start_lba=1, end_lba=99, pid=1}) = -1 EBADF (Bad file descriptor)");
	/* -v: a control buffer past 1,024 bytes (SCM_RIGHTS of 300 fds) printed whole */
	{
		static union { struct cmsghdr h; char b[CMSG_SPACE(300 * sizeof(int))]; } u;
		struct msghdr mh = { .msg_control = u.b, .msg_controllen = CMSG_SPACE(300 * sizeof(int)) };
		u.h.cmsg_len = CMSG_LEN(300 * sizeof(int));
		u.h.cmsg_level = SOL_SOCKET;
		u.h.cmsg_type = SCM_RIGHTS;
		int *fdp = (int *) CMSG_DATA(&u.h);
		static char line[4096];
		int o = snprintf(line, sizeof(line), "sendmsg(-1, {msg_name=NULL, msg_namelen=0, msg_iov=NULL, msg_iovlen=0, "
				 "msg_control=[{cmsg_len=%zu, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[",
				 (size_t) CMSG_LEN(300 * sizeof(int)));
		for (int i = 0; i < 300; i++) {
			fdp[i] = -1;
			o += snprintf(line + o, sizeof(line) - o, i ? ", -1" : "-1");
		}
		snprintf(line + o, sizeof(line) - o, "]}], msg_controllen=%zu, msg_flags=0}, 0) = -1 EBADF (Bad file descriptor)",
			 (size_t) CMSG_SPACE(300 * sizeof(int)));
		r = sendmsg(-1, &mh, 0);
		EXPECT("%s", line);
	}
	close(nul);
	close(zero);
	/* kexec_load's segments (an architecture the kernel refuses first) */
	struct { void *buf; size_t bufsz; void *mem; size_t memsz; } seg[2] = { { NULL, 1, NULL, 2 }, { tids, 3, (void *) 0x1000, 4 } };
	r = syscall(SYS_kexec_load, 0, 2, seg, 0xdead0000UL);
	EXPECT("kexec_load(NULL, 2, [{buf=NULL, bufsz=1, mem=NULL, memsz=2}, {buf=%p, bufsz=3, mem=0x1000, memsz=4}], 0xdead0000 /* KEXEC_ARCH_??? */) = %s", tids, rc(r));
	/* KVM_SET_CPUID2 under -v: every entry, read past the request's 8-byte head */
	struct { struct kvm_cpuid2 h; struct kvm_cpuid_entry2 e[8]; } cpuid = { .h = { .nent = 8 } };
	for (int i = 0; i < 8; i++)
		cpuid.e[i] = (struct kvm_cpuid_entry2) { .function = 4, .index = i, .flags = i == 7 ? 6 : 1, .eax = 0x100 + i };
	syscall(SYS_ioctl, -1, KVM_SET_CPUID2, &cpuid);
	char line[2048];
	int at = snprintf(line, sizeof line, "ioctl(-1, KVM_SET_CPUID2, {nent=8, entries=[");
	for (int i = 0; i < 8; i++)
		at += snprintf(line + at, sizeof line - at, "%s{function=0x4, index=%s%x, flags=%s, eax=0x%x, ebx=0, ecx=0, edx=0}",
			       i ? ", " : "", i ? "0x" : "", i, i == 7 ? "KVM_CPUID_FLAG_STATEFUL_FUNC|KVM_CPUID_FLAG_STATE_READ_NEXT"
			       : "KVM_CPUID_FLAG_SIGNIFCANT_INDEX", 0x100 + i);
	EXPECT("%s]}) = -1 EBADF (Bad file descriptor)", line);
	/* KVM_SET_SREGS under -v: the whole struct */
	struct kvm_sregs sr = { .cs = { .base = 0xffff0000, .limit = 0xffff, .selector = 0xf000, .type = 11, .present = 1, .s = 1 },
				.gdt = { .limit = 0xffff }, .cr0 = 0x60000010, .apic_base = 0xfee00900 };
	syscall(SYS_ioctl, -1, KVM_SET_SREGS, &sr);
	at = snprintf(line, sizeof line, "ioctl(-1, KVM_SET_SREGS, {cs={base=0xffff0000, limit=65535, selector=61440, type=11, "
		      "present=1, dpl=0, db=0, s=1, l=0, g=0, avl=0}");
	for (const char *const *n = (const char *const[]) { "ds", "es", "fs", "gs", "ss", "tr", "ldt", NULL }; *n; n++)
		at += snprintf(line + at, sizeof line - at, ", %s={base=0, limit=0, selector=0, type=0, present=0, dpl=0, db=0, "
			       "s=0, l=0, g=0, avl=0}", *n);
	EXPECT("%s, gdt={base=0, limit=65535}, idt={base=0, limit=0}, cr0=1610612752, cr2=0, cr3=0, cr4=0, cr8=0, efer=0, "
	       "apic_base=0xfee00900, interrupt_bitmap=[0, 0, 0, 0]}) = -1 EBADF (Bad file descriptor)", line);
	return 0;
}
