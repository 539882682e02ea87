/* Family decoders of issue 13 (fourth round): setsockopt's group_req,
 * packet_mreq and tpacket_req (a length that does not fit: the address). */
#include "common.h"
#include <stdint.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_packet.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <time.h>

static const char *rc(long r) {
	static char b[256];
	if (r >= 0) { snprintf(b, sizeof b, "%ld", r); return b; }
	const char *n = errno == E2BIG ? "E2BIG" : errno == EINVAL ? "EINVAL" : errno == EPERM ? "EPERM"
		: errno == EFAULT ? "EFAULT" : errno == EACCES ? "EACCES" : errno == EBADF ? "EBADF" : errno == ESRCH ? "ESRCH"
		: errno == ENOTSOCK ? "ENOTSOCK" : errno == EOPNOTSUPP ? "EOPNOTSUPP" : errno == ENOKEY ? "ENOKEY" : errno == ENOSYS ? "ENOSYS" : errno == ENOENT ? "ENOENT" : errno == ENODEV ? "ENODEV" : "E???";
	snprintf(b, sizeof b, "-1 %s (%s)", n, strerror(errno));
	return b;
}

int main(int argc, char **argv) {
	open_out(argc, argv);
	char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(page + 4096, 4096);
	char *end = page + 4096;
	long r;

	/* group_req: the struct for a length that holds it, an IPv4 group */
	struct group_req *g = (struct group_req *) (end - sizeof(*g));
	memset(g, 0, sizeof(*g));
	g->gr_interface = 1;
	struct sockaddr_in *sin = (struct sockaddr_in *) &g->gr_group;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(1234);
	inet_pton(AF_INET, "224.0.0.3", &sin->sin_addr);
	r = syscall(SYS_setsockopt, -1, SOL_IP, MCAST_JOIN_GROUP, g, 200);
	EXPECT("setsockopt(-1, SOL_IP, MCAST_JOIN_GROUP, {gr_interface=if_nametoindex(\"lo\"), gr_group={sa_family=AF_INET, "
	       "sin_port=htons(1234), sin_addr=inet_addr(\"224.0.0.3\")}}, 200) = %s", rc(r));
	r = syscall(SYS_setsockopt, -1, SOL_IPV6, MCAST_LEAVE_GROUP, g, sizeof(*g) - 1);
	EXPECT("setsockopt(-1, SOL_IPV6, MCAST_LEAVE_GROUP, %p, 135) = %s", g, rc(r));

	/* packet_mreq: its exact length only; the address as long as mr_alen */
	struct packet_mreq *m = (struct packet_mreq *) (end - sizeof(*m));
	memset(m, 0, sizeof(*m));
	m->mr_ifindex = 1;
	m->mr_type = PACKET_MR_PROMISC;
	m->mr_alen = 3;
	memcpy(m->mr_address, "\x01\x02\xab\xcd\xef\x00\x11\x22", 8);
	r = syscall(SYS_setsockopt, -1, SOL_PACKET, PACKET_ADD_MEMBERSHIP, m, sizeof(*m));
	EXPECT("setsockopt(-1, SOL_PACKET, PACKET_ADD_MEMBERSHIP, {mr_ifindex=if_nametoindex(\"lo\"), mr_type=PACKET_MR_PROMISC, "
	       "mr_alen=3, mr_address=01:02:ab}, 16) = %s", rc(r));
	m->mr_type = 9;
	m->mr_alen = 200;
	r = syscall(SYS_setsockopt, -1, SOL_PACKET, PACKET_DROP_MEMBERSHIP, m, sizeof(*m));
	EXPECT("setsockopt(-1, SOL_PACKET, PACKET_DROP_MEMBERSHIP, {mr_ifindex=if_nametoindex(\"lo\"), mr_type=0x9 /* PACKET_MR_??? */, "
	       "mr_alen=200, mr_address=01:02:ab:cd:ef:00:11:22}, 16) = %s", rc(r));
	r = syscall(SYS_setsockopt, -1, SOL_PACKET, PACKET_ADD_MEMBERSHIP, m, 12);
	EXPECT("setsockopt(-1, SOL_PACKET, PACKET_ADD_MEMBERSHIP, %p, 12) = %s", m, rc(r));

	/* tpacket_req: its exact length only */
	struct tpacket_req *t = (struct tpacket_req *) (end - sizeof(*t));
	t->tp_block_size = 4096;
	t->tp_block_nr = 0xffffffffU;
	t->tp_frame_size = 2048;
	t->tp_frame_nr = 7;
	r = syscall(SYS_setsockopt, -1, SOL_PACKET, PACKET_TX_RING, t, sizeof(*t));
	EXPECT("setsockopt(-1, SOL_PACKET, PACKET_TX_RING, {tp_block_size=4096, tp_block_nr=4294967295, tp_frame_size=2048, "
	       "tp_frame_nr=7}, 16) = %s", rc(r));
	r = syscall(SYS_setsockopt, -1, SOL_PACKET, PACKET_RX_RING, t, 17);
	EXPECT("setsockopt(-1, SOL_PACKET, PACKET_RX_RING, %p, 17) = %s", t, rc(r));

	/* socket addresses of the rarer families (connect's address) */
	unsigned char *sa = (unsigned char *) (end - 128);
	memset(sa, 0, 128);
	sa[0] = AF_PACKET;
	sa[2] = 0; sa[3] = 3;         /* sll_protocol: htons(ETH_P_ALL) */
	sa[4] = 1;                    /* sll_ifindex */
	sa[8] = 1;                    /* ARPHRD_ETHER */
	sa[10] = 4;                   /* PACKET_OUTGOING */
	sa[11] = 9;                   /* sll_halen past the 8 bytes given */
	memcpy(sa + 12, "\x00\x01\xab\xcd\xef\x10\x20\x30", 8);
	r = syscall(SYS_connect, -1, sa, 20);
	EXPECT("connect(-1, {sa_family=AF_PACKET, sll_protocol=htons(ETH_P_ALL), sll_ifindex=if_nametoindex(\"lo\"), "
	       "sll_hatype=ARPHRD_ETHER, sll_pkttype=PACKET_OUTGOING, sll_halen=9, sll_addr=[00, 0x1, 0xab, 0xcd, 0xef, 0x10, "
	       "0x20, 0x30, ...]}, 20) = %s", rc(r));
	memset(sa, 0, 128);
	sa[0] = 4;                    /* AF_IPX */
	sa[2] = 0x30; sa[3] = 0x39;
	sa[4] = 0xfa; sa[5] = 0xce; sa[6] = 0xfe; sa[7] = 0xed;
	memcpy(sa + 8, "ABCDEF", 6);
	sa[14] = 0xff;
	r = syscall(SYS_connect, -1, sa, 16);
	EXPECT("connect(-1, {sa_family=AF_IPX, sipx_port=htons(12345), sipx_network=htonl(0xfacefeed), "
	       "sipx_node=[0x41, 0x42, 0x43, 0x44, 0x45, 0x46], sipx_type=0xff}, 16) = %s", rc(r));
	memset(sa, 0, 128);
	sa[0] = 9;                    /* AF_X25 */
	memcpy(sa + 2, "0123456789abcdef", 16);
	r = syscall(SYS_connect, -1, sa, 18);
	EXPECT("connect(-1, {sa_family=AF_X25, sx25_addr={x25_addr=\"0123456789abcde\"...}}, 18) = %s", rc(r));
	memset(sa, 0, 128);
	sa[0] = AF_NETLINK;
	sa[2] = 0xff;                 /* nl_pad */
	sa[4] = 7;                    /* nl_pid */
	sa[8] = 1;                    /* nl_groups */
	r = syscall(SYS_connect, -1, sa, 12);
	EXPECT("connect(-1, {sa_family=AF_NETLINK, nl_pad=0xff, nl_pid=7, nl_groups=0x000001}, 12) = %s", rc(r));
	memset(sa, 0, 128);
	sa[0] = 40;                   /* AF_VSOCK */
	sa[4] = 0xff; sa[5] = 0xff; sa[6] = 0xff; sa[7] = 0xff;  /* svm_port: VMADDR_PORT_ANY */
	sa[8] = 2;                    /* svm_cid: VMADDR_CID_HOST */
	sa[12] = 3;                   /* svm_flags */
	r = syscall(SYS_connect, -1, sa, 16);
	EXPECT("connect(-1, {sa_family=AF_VSOCK, svm_cid=VMADDR_CID_HOST, svm_port=VMADDR_PORT_ANY, "
	       "svm_flags=VMADDR_FLAG_TO_HOST|0x2}, 16) = %s", rc(r));
	memset(sa, 0, 128);
	sa[0] = 45;                   /* AF_MCTP */
	sa[8] = 0xff; sa[9] = 1; sa[10] = 8;
	r = syscall(SYS_connect, -1, sa, 12);
	EXPECT("connect(-1, {sa_family=AF_MCTP, smctp_network=MCTP_NET_ANY, smctp_addr={s_addr=MCTP_ADDR_ANY}, "
	       "smctp_type=0x1, smctp_tag=0x8}, 12) = %s", rc(r));
	memset(sa, 0, 128);
	sa[0] = 33;                   /* AF_RXRPC, an inet transport */
	sa[2] = 1;                    /* CM_SERVICE */
	sa[4] = SOCK_DGRAM;
	sa[6] = 16;
	sa[8] = AF_INET;
	sa[10] = 0x1f; sa[11] = 0x90;
	sa[12] = 127; sa[15] = 1;
	r = syscall(SYS_connect, -1, sa, 36);
	EXPECT("connect(-1, {sa_family=AF_RXRPC, srx_service=0x1 /* CM_SERVICE */, transport_type=SOCK_DGRAM, transport_len=16, "
	       "transport={sin={sin_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr(\"127.0.0.1\")}}}, 36) = %s", rc(r));

	/* quotactl's XFS quota limits, read at entry (abbreviated: the limits and counts) */
	struct xq {
		signed char version, flags;
		unsigned short mask;
		unsigned int id;
		unsigned long long lim[6];
		char rest[112 - 56];
	} *q = (struct xq *) (end - sizeof(struct xq));
	memset(q, 0, sizeof(*q));
	q->version = -2;
	q->flags = 0x0b;
	q->mask = 0x1f;
	q->id = 4000000000U;
	for (int i = 0; i < 6; i++)
		q->lim[i] = 1000ULL * (i + 1);
	r = syscall(SYS_quotactl, 0x580402, "/nonexistent/dev", 1000, q);
	EXPECT("quotactl(QCMD(Q_XSETQLIM, PRJQUOTA), \"/nonexistent/dev\", 1000, {d_version=-2, "
	       "d_flags=FS_USER_QUOTA|FS_PROJ_QUOTA|0x8, d_fieldmask=0x1f, d_id=4000000000, d_blk_hardlimit=1000, "
	       "d_blk_softlimit=2000, d_ino_hardlimit=3000, d_ino_softlimit=4000, d_bcount=5000, d_icount=6000, ...}) = %s", rc(r));

	/* perf_event_open's attr: abbreviated, the fields before wakeup_events and the bits set */
	struct perf_event_attr *pa = (struct perf_event_attr *) (end - 72);
	memset(pa, 0, 72);
	pa->type = PERF_TYPE_SOFTWARE;
	pa->size = 72;
	pa->config = 0xc;
	pa->sample_period = 1000;
	pa->sample_type = PERF_SAMPLE_BRANCH_STACK;
	pa->read_format = PERF_FORMAT_TOTAL_TIME_ENABLED;
	pa->disabled = 1;
	pa->exclude_kernel = 1;
	pa->precise_ip = 2;
	r = syscall(SYS_perf_event_open, pa, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	EXPECT("perf_event_open({type=PERF_TYPE_SOFTWARE, size=PERF_ATTR_SIZE_VER1, config=0xc /* PERF_COUNT_SW_??? */, "
	       "sample_period=1000, sample_type=PERF_SAMPLE_BRANCH_STACK, read_format=PERF_FORMAT_TOTAL_TIME_ENABLED, "
	       "disabled=1, exclude_kernel=1, precise_ip=2 /* requested to have 0 skid */, ...}, 0, -1, -1, "
	       "PERF_FLAG_FD_CLOEXEC) = %s", rc(r));
	/* a size below PERF_ATTR_SIZE_VER0: the address */
	pa->size = 40;
	r = syscall(SYS_perf_event_open, pa, 0, -1, -1, 0);
	EXPECT("perf_event_open(%p, 0, -1, -1, 0) = %s", pa, rc(r));

	/* fsconfig by command: the key and value strings, aux bytes in hex, a path and its dirfd, addresses */
	char *key = end - 8, *val = end - 40;
	memcpy(key, "source\0", 7);
	memcpy(val, "\x01\x02" "ab\0cd", 7);
	r = syscall(SYS_fsconfig, -1, 1, key, val, 0);
	EXPECT("fsconfig(-1, FSCONFIG_SET_STRING, \"source\", \"\\1\\2ab\", 0) = %s", rc(r));
	r = syscall(SYS_fsconfig, -1, 2, key, val, 5);
	EXPECT("fsconfig(-1, FSCONFIG_SET_BINARY, \"source\", \"\\x01\\x02\\x61\\x62\\x00\", 5) = %s", rc(r));
	r = syscall(SYS_fsconfig, -1, 2, key, val, -5);
	EXPECT("fsconfig(-1, FSCONFIG_SET_BINARY, \"source\", %p, -5) = %s", val, rc(r));
	r = syscall(SYS_fsconfig, -1, 3, key, "/dev/null", -100);
	EXPECT("fsconfig(-1, FSCONFIG_SET_PATH, \"source\", \"/dev/null\", AT_FDCWD) = %s", rc(r));
	r = syscall(SYS_fsconfig, -1, 6, key, val, 7);
	EXPECT("fsconfig(-1, FSCONFIG_CMD_CREATE, %p, %p, 7) = %s", key, val, rc(r));

	/* mincore's vector at exit: a byte a page, its low bit; a failed call: the address */
	char *pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pages[0] = pages[4096] = 1;
	unsigned char *vec = (unsigned char *) end - 2;
	r = syscall(SYS_mincore, pages, 4097, vec);
	EXPECT("mincore(%p, 4097, [1, 1]) = %s", pages, rc(r));
	r = syscall(SYS_mincore, pages + 1, 4096, vec);
	EXPECT("mincore(%p, 4096, %p) = %s", pages + 1, vec, rc(r));

	/* modify_ldt: the user_desc for a count of its size; the int the kernel clips its return to */
	unsigned int *ud = (unsigned int *) (end - 16);
	ud[0] = 0xffffffffU;
	ud[1] = 0;
	ud[2] = 0xfffff;
	ud[3] = 0x1 | (2 << 1) | (1 << 6);
	r = syscall(SYS_modify_ldt, 0xdead, ud, 16);
	EXPECT("modify_ldt(57005, {entry_number=-1, base_addr=00000000, limit=0x0fffff, seg_32bit=1, contents=2, "
	       "read_exec_only=0, limit_in_pages=0, seg_not_present=0, useable=1, lm=0}, 16) = %ld ENOSYS (%s)",
	       r, strerror(ENOSYS));
	r = syscall(SYS_modify_ldt, 0xdead, ud, 15);
	EXPECT("modify_ldt(57005, %p, 15) = %ld ENOSYS (%s)", ud, r, strerror(ENOSYS));

	/* poll: a negative fd without its events; the returned events after the return; ppoll's time left */
	int pfd[2];
	if (pipe(pfd))
		return 1;
	struct pollfd *pf = (struct pollfd *) (end - 2 * sizeof(struct pollfd));
	pf[0].fd = -1;
	pf[0].events = POLLIN;
	pf[1].fd = pfd[1];
	pf[1].events = POLLOUT;
	r = syscall(SYS_poll, pf, 2, 0);
	EXPECT("poll([{fd=-1}, {fd=%d, events=POLLOUT}], 2, 0) = %s ([{fd=%d, revents=POLLOUT}])", pfd[1], rc(r), pfd[1]);
	struct timespec *ts = (struct timespec *) page;
	ts->tv_sec = 0;
	ts->tv_nsec = 0;
	r = syscall(SYS_ppoll, pf, 2, ts, NULL, 8);
	EXPECT("ppoll([{fd=-1}, {fd=%d, events=POLLOUT}], 2, {tv_sec=0, tv_nsec=0}, NULL, 8) = %s "
	       "([{fd=%d, revents=POLLOUT}], left {tv_sec=0, tv_nsec=0})", pfd[1], rc(r), pfd[1]);
	r = syscall(SYS_poll, pf + 1, 2, 0);
	EXPECT("poll([{fd=%d, events=POLLOUT}, ... /* %p */], 2, 0) = %s", pfd[1], (void *) end, rc(r));

	/* siginfo by signal and code: a protection key, a machine check's address bits, seccomp's call, an unknown code */
	siginfo_t *si = (siginfo_t *) (end - sizeof(siginfo_t));
	unsigned char *sb = (unsigned char *) si;
	memset(si, 0, sizeof(*si));
	si->si_signo = SIGSEGV;
	si->si_code = SEGV_PKUERR;
	si->si_addr = (void *) 0x1000;
	*(unsigned int *) (sb + 32) = 5;  /* si_pkey */
	r = syscall(SYS_rt_sigqueueinfo, 0x7ffffff0, SIGSEGV, si);
	EXPECT("rt_sigqueueinfo(2147483632, SIGSEGV, {si_signo=SIGSEGV, si_code=SEGV_PKUERR, si_addr=0x1000, si_pkey=5}) = %s", rc(r));
	memset(si, 0, sizeof(*si));
	si->si_signo = SIGBUS;
	si->si_code = BUS_MCEERR_AO;
	si->si_addr = (void *) 0x2000;
	*(unsigned short *) (sb + 24) = 12;  /* si_addr_lsb */
	r = syscall(SYS_rt_sigqueueinfo, 0x7ffffff0, SIGBUS, si);
	EXPECT("rt_sigqueueinfo(2147483632, SIGBUS, {si_signo=SIGBUS, si_code=BUS_MCEERR_AO, si_addr=0x2000, si_addr_lsb=0xc}) = %s", rc(r));
	memset(si, 0, sizeof(*si));
	si->si_signo = SIGSYS;
	si->si_code = 1;  /* SYS_SECCOMP */
	*(unsigned long *) (sb + 16) = 0x3000;  /* si_call_addr */
	*(int *) (sb + 24) = 0;  /* si_syscall: read */
	*(unsigned int *) (sb + 28) = 0xc000003e;  /* AUDIT_ARCH_X86_64 */
	r = syscall(SYS_rt_sigqueueinfo, 0x7ffffff0, SIGSYS, si);
	EXPECT("rt_sigqueueinfo(2147483632, SIGSYS, {si_signo=SIGSYS, si_code=SYS_SECCOMP, si_call_addr=0x3000, "
	       "si_syscall=__NR_read, si_arch=AUDIT_ARCH_X86_64}) = %s", rc(r));
	memset(si, 0, sizeof(*si));
	si->si_signo = SIGPROF;
	si->si_code = (int) 0xbadc0ded;
	*(unsigned int *) (sb + 20) = 3;  /* si_uid */
	r = syscall(SYS_rt_sigqueueinfo, 0x7ffffff0, SIGPROF, si);
	EXPECT("rt_sigqueueinfo(2147483632, SIGPROF, {si_signo=SIGPROF, si_code=0xbadc0ded, si_pid=0, si_uid=3}) = %s", rc(r));

	/* set_thread_area's user_desc; get_thread_area's entry number and what a failed call did not fill */
	ud[0] = 12;
	ud[1] = 0;
	ud[2] = 0xfffff;
	ud[3] = 0x1 | (2 << 1) | (1 << 6);
	r = syscall(SYS_set_thread_area, ud);
	EXPECT("set_thread_area({entry_number=12, base_addr=00000000, limit=0x0fffff, seg_32bit=1, contents=2, "
	       "read_exec_only=0, limit_in_pages=0, seg_not_present=0, useable=1, lm=0}) = %s", rc(r));
	r = syscall(SYS_get_thread_area, ud);
	EXPECT("get_thread_area({entry_number=12, ...}) = %s", rc(r));

	/* kcmp: two fds of the same file; KCMP_EPOLL_TFD's slot */
	int me = getpid();
	r = syscall(SYS_kcmp, me, me, 0, pfd[0], pfd[0]);
	EXPECT("kcmp(%d, %d, KCMP_FILE, %d, %d) = %s", me, me, pfd[0], pfd[0], rc(r));
	unsigned int *slot = (unsigned int *) (end - 12);
	slot[0] = pfd[0];
	slot[1] = pfd[1];
	slot[2] = 0;
	r = syscall(SYS_kcmp, me, me, 7, pfd[0], slot);
	EXPECT("kcmp(%d, %d, KCMP_EPOLL_TFD, %d, {efd=%d, tfd=%d, toff=0}) = %s", me, me, pfd[0], pfd[0], pfd[1], rc(r));

	/* pidfd_getfd: the target fd is the pidfd's process's */
	int pidfd = syscall(SYS_pidfd_open, me, 0);
	r = syscall(SYS_pidfd_getfd, pidfd, pfd[0], 0);
	EXPECT("pidfd_getfd(%d, %d, 0) = %s", pidfd, pfd[0], rc(r));

	/* a failed recvmsg: the name length read at entry */
	struct msghdr *mh = (struct msghdr *) (end - sizeof(struct msghdr));
	memset(mh, 0, sizeof(*mh));
	mh->msg_name = page;
	mh->msg_namelen = 16;
	r = syscall(SYS_recvmsg, -1, mh, 0);
	EXPECT("recvmsg(-1, {msg_namelen=16}, 0) = %s", rc(r));

	/* capset: the header's version by name, the data in that version's size, the high word's capabilities */
	unsigned int *ch = (unsigned int *) page, *cd = (unsigned int *) (end - 24);
	ch[0] = 0xbadc0ded;
	ch[1] = 0;
	memset(cd, 0, 24);
	r = syscall(SYS_capset, ch, cd);
	EXPECT("capset({version=0xbadc0ded /* _LINUX_CAPABILITY_VERSION_??? */, pid=0}, {effective=0, permitted=0, "
	       "inheritable=0}) = %s", rc(r));
	ch[0] = 0xbadc0ded;  /* the kernel wrote the version it knows back */
	r = syscall(SYS_capset, ch, end - 8);
	EXPECT("capset({version=0xbadc0ded /* _LINUX_CAPABILITY_VERSION_??? */, pid=0}, %p) = %s", end - 8, rc(r));
	ch[0] = 0x19980330;
	ch[1] = 1;
	memset(cd, 0, 24);
	cd[0] = 1 << 1;
	cd[1] = 1 << 2;
	r = syscall(SYS_capset, ch, cd);
	EXPECT("capset({version=_LINUX_CAPABILITY_VERSION_1, pid=1}, {effective=1<<CAP_DAC_OVERRIDE, "
	       "permitted=1<<CAP_DAC_READ_SEARCH, inheritable=0}) = %s", rc(r));
	ch[0] = 0x20080522;
	cd[0] = 0;
	cd[3] = 1 << 3;
	cd[4] = 1 << 4 | 0x80000000U;
	r = syscall(SYS_capset, ch, cd);
	EXPECT("capset({version=_LINUX_CAPABILITY_VERSION_3, pid=1}, {effective=1<<CAP_WAKE_ALARM, "
	       "permitted=1<<CAP_DAC_READ_SEARCH|1<<CAP_BLOCK_SUSPEND|0x80000000, inheritable=0}) = %s", rc(r));
	return 0;
}
