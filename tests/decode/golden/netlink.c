/* Netlink messages (route, generic), socket addresses filled by the call,
 * ioctl requests by name with their argument kinds. */
#include "common.h"
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/uio.h>
#include <linux/if_addr.h>
#include <linux/fs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/genetlink.h>
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>
#include <netinet/in.h>
/* one message: a header of type and flags, then plen bytes of payload */
static long nlsend(long fd, int type, int flags, const void *payload, unsigned plen) {
	static unsigned char buf[256];
	struct nlmsghdr h = {.nlmsg_len = sizeof h + plen, .nlmsg_type = type, .nlmsg_flags = flags};
	memcpy(buf, &h, sizeof h);
	memcpy(buf + sizeof h, payload, plen);
	return syscall(SYS_sendto, fd, buf, sizeof h + plen, MSG_DONTWAIT, NULL, 0);
}

int main(int argc, char **argv) {
	open_out(argc, argv);
	long r = syscall(SYS_socket, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	EXPECT("socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE) = %ld", r);
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	bind(r, (void *) &sa, sizeof sa); /* bound: strace finds the socket's family (not traced) */
	struct nlmsghdr h = {.nlmsg_len = sizeof h, .nlmsg_type = RTM_GETLINK, .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP};
	long n = syscall(SYS_sendto, r, &h, sizeof h, MSG_DONTWAIT, NULL, 0);
	EXPECT("sendto(%ld, {nlmsg_len=16, nlmsg_type=RTM_GETLINK, nlmsg_flags=NLM_F_REQUEST|NLM_F_DUMP, nlmsg_seq=0, nlmsg_pid=0}, 16, MSG_DONTWAIT, NULL, 0) = %ld", r, n);
	struct { struct nlmsghdr h; char data[4]; } m[2] = {
		{{20, NLMSG_NOOP, NLM_F_REQUEST | NLM_F_DUMP, 7, 0}, "abcd"},
		{{20, NLMSG_NOOP, NLM_F_REQUEST, 8, 0}, "efgh"}};
	n = syscall(SYS_sendto, r, &m, sizeof m[0], MSG_DONTWAIT, NULL, 0);
	EXPECT("sendto(%ld, [{nlmsg_len=20, nlmsg_type=NLMSG_NOOP, nlmsg_flags=NLM_F_REQUEST|0x300, nlmsg_seq=7, nlmsg_pid=0}, \"\\x61\\x62\\x63\\x64\"], 20, MSG_DONTWAIT, NULL, 0) = %s", r, n < 0 ? "-1 EINVAL (Invalid argument)" : "20");
	n = syscall(SYS_sendto, r, &m, sizeof m, MSG_DONTWAIT, NULL, 0);
	EXPECT("sendto(%ld, [[{nlmsg_len=20, nlmsg_type=NLMSG_NOOP, nlmsg_flags=NLM_F_REQUEST|0x300, nlmsg_seq=7, nlmsg_pid=0}, \"\\x61\\x62\\x63\\x64\"], [{nlmsg_len=20, nlmsg_type=NLMSG_NOOP, nlmsg_flags=NLM_F_REQUEST, nlmsg_seq=8, nlmsg_pid=0}, \"\\x65\\x66\\x67\\x68\"]], 40, MSG_DONTWAIT, NULL, 0) = %s", r, n < 0 ? "-1 EINVAL (Invalid argument)" : "40");
	struct { struct nlmsghdr h; struct nlmsgerr e; } e = {
		{sizeof e, NLMSG_ERROR, NLM_F_REQUEST, 0, 0},
		{-13, {16, RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_CREATE, 42, 1234}}};
	n = syscall(SYS_sendto, r, &e, sizeof e, MSG_DONTWAIT, NULL, 0);
	EXPECT("sendto(%ld, [{nlmsg_len=36, nlmsg_type=NLMSG_ERROR, nlmsg_flags=NLM_F_REQUEST, nlmsg_seq=0, nlmsg_pid=0}, {error=-EACCES, msg={nlmsg_len=16, nlmsg_type=RTM_NEWROUTE, nlmsg_flags=NLM_F_REQUEST|NLM_F_CREATE, nlmsg_seq=42, nlmsg_pid=1234}}], 36, MSG_DONTWAIT, NULL, 0) = %ld", r, n);
	struct { struct nlmsghdr h; int v; } d = {{sizeof d, NLMSG_DONE, NLM_F_MULTI, 0, 0}, -5};
	n = syscall(SYS_sendto, r, &d, sizeof d, MSG_DONTWAIT, NULL, 0);
	EXPECT("sendto(%ld, [{nlmsg_len=20, nlmsg_type=NLMSG_DONE, nlmsg_flags=NLM_F_MULTI, nlmsg_seq=0, nlmsg_pid=0}, -5], 20, MSG_DONTWAIT, NULL, 0) = %ld", r, n);
	n = syscall(SYS_sendto, r, "abc", 3UL, MSG_DONTWAIT, NULL, 0);
	EXPECT("sendto(%ld, \"\\x61\\x62\\x63\", 3, MSG_DONTWAIT, NULL, 0) = %s", r, n < 0 ? "-1 EINVAL (Invalid argument)" : "3");
	/* sendmsg to an AF_NETLINK name: the iovec data are messages */
	struct { struct nlmsghdr h; struct ifaddrmsg a; } ga = {{sizeof ga, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, 3, 0}, {.ifa_family = AF_INET}};
	struct iovec iov = {&ga, sizeof ga};
	struct msghdr mh = {.msg_name = &sa, .msg_namelen = sizeof sa, .msg_iov = &iov, .msg_iovlen = 1};
	n = syscall(SYS_sendmsg, r, &mh, 0);
	EXPECT("sendmsg(%ld, {msg_name={sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}, msg_namelen=12, msg_iov=[{iov_base=[{nlmsg_len=24, nlmsg_type=RTM_GETADDR, nlmsg_flags=NLM_F_REQUEST|NLM_F_DUMP, nlmsg_seq=3, nlmsg_pid=0}, {ifa_family=AF_INET, ifa_prefixlen=0, ifa_flags=0, ifa_scope=RT_SCOPE_UNIVERSE, ifa_index=0}], iov_len=24}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = %ld", r, n);
	/* sock_diag: an inet_diag_req_v2 */
	long sd = syscall(SYS_socket, AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG);
	EXPECT("socket(AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG) = %ld", sd);
	bind(sd, (void *) &sa, sizeof sa);
	struct { struct nlmsghdr h; struct inet_diag_req_v2 r; } dq = {
		{sizeof dq, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, 5, 0},
		{.sdiag_family = AF_INET, .sdiag_protocol = IPPROTO_TCP, .idiag_states = 1 << 10 /* TCP_LISTEN */}};
	n = syscall(SYS_sendto, sd, &dq, sizeof dq, MSG_DONTWAIT, NULL, 0);
	EXPECT("sendto(%ld, [{nlmsg_len=72, nlmsg_type=SOCK_DIAG_BY_FAMILY, nlmsg_flags=NLM_F_REQUEST|NLM_F_DUMP, nlmsg_seq=5, nlmsg_pid=0}, {sdiag_family=AF_INET, sdiag_protocol=IPPROTO_TCP, idiag_ext=0, idiag_states=1<<TCP_LISTEN, id={idiag_sport=htons(0), idiag_dport=htons(0), idiag_src=inet_addr(\"0.0.0.0\"), idiag_dst=inet_addr(\"0.0.0.0\"), idiag_if=0, idiag_cookie=[0, 0]}}], 72, MSG_DONTWAIT, NULL, 0) = %ld", sd, n);
	long g = syscall(SYS_socket, AF_NETLINK, SOCK_RAW, NETLINK_GENERIC);
	EXPECT("socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC) = %ld", g);
	bind(g, (void *) &sa, sizeof sa);
	struct { struct nlmsghdr h; struct genlmsghdr gh; } q = {{sizeof q, GENL_ID_CTRL, NLM_F_REQUEST, 1, 0}, {CTRL_CMD_GETFAMILY, 1, 0}};
	n = syscall(SYS_sendto, g, &q, sizeof q, MSG_DONTWAIT, NULL, 0);
	EXPECT("sendto(%ld, [{nlmsg_len=20, nlmsg_type=nlctrl, nlmsg_flags=NLM_F_REQUEST, nlmsg_seq=1, nlmsg_pid=0}, \"\\x03\\x01\\x00\\x00\"], 20, MSG_DONTWAIT, NULL, 0) = %ld", g, n);

	/* route messages with their own headers: the family byte padded to 4, then attributes */
	static const unsigned char nsid[] = {AF_UNIX, 0, 0, 0, 8, 0, 0xff, 0x3f, 'a', 'b', 'c', 'd'};
	n = nlsend(r, RTM_GETNSID, NLM_F_DUMP, nsid, sizeof nsid);
	EXPECT("sendto(%ld, [{nlmsg_len=28, nlmsg_type=RTM_GETNSID, nlmsg_flags=NLM_F_DUMP, nlmsg_seq=0, nlmsg_pid=0}, {rtgen_family=AF_UNIX}, [{nla_len=8, nla_type=0x3fff /* NETNSA_??? */}, \"\\x61\\x62\\x63\\x64\"]], 28, MSG_DONTWAIT, NULL, 0) = %ld", r, n);
	static const unsigned char creport[] = {128 /* RTNL_FAMILY_IPMR */, 0, 0, 0, 5, 0, 1, 0, 1 /* IGMPMSG_NOCACHE */};
	n = nlsend(r, RTM_NEWCACHEREPORT, NLM_F_REQUEST, creport, sizeof creport);
	EXPECT("sendto(%ld, [{nlmsg_len=25, nlmsg_type=RTM_NEWCACHEREPORT, nlmsg_flags=NLM_F_REQUEST, nlmsg_seq=0, nlmsg_pid=0}, {rtgen_family=RTNL_FAMILY_IPMR}, [{nla_len=5, nla_type=IPMRA_CREPORT_MSGTYPE}, IGMPMSG_NOCACHE]], 25, MSG_DONTWAIT, NULL, 0) = %ld", r, n);
	/* fib_rule_hdr: family, dst_len, src_len, tos, table, 2 reserved, action, flags; FRA_TABLE */
	static const unsigned char rule[] = {AF_INET, 0, 0, 0x10, 254, 0, 0, 1, 2, 0, 0, 0, 8, 0, 15, 0, 254, 0, 0, 0};
	n = nlsend(r, RTM_GETRULE, NLM_F_DUMP, rule, sizeof rule);
	EXPECT("sendto(%ld, [{nlmsg_len=36, nlmsg_type=RTM_GETRULE, nlmsg_flags=NLM_F_DUMP, nlmsg_seq=0, nlmsg_pid=0}, {family=AF_INET, dst_len=0, src_len=0, tos=IPTOS_LOWDELAY, table=RT_TABLE_MAIN, action=FR_ACT_TO_TBL, flags=FIB_RULE_INVERT}, [{nla_len=8, nla_type=FRA_TABLE}, RT_TABLE_MAIN]], 36, MSG_DONTWAIT, NULL, 0) = %ld", r, n);
	/* if_stats_msg: padding shown when nonzero; an index beyond the C int range is a number */
	static const unsigned char stats[] = {AF_UNIX, 0, 0xad, 0xde, 0xef, 0xbe, 0xad, 0xde, 1, 0, 0, 0};
	n = nlsend(r, RTM_GETSTATS, NLM_F_DUMP, stats, sizeof stats);
	EXPECT("sendto(%ld, [{nlmsg_len=28, nlmsg_type=RTM_GETSTATS, nlmsg_flags=NLM_F_DUMP, nlmsg_seq=0, nlmsg_pid=0}, {family=AF_UNIX, pad2=0xdead, ifindex=3735928559, filter_mask=1<<IFLA_STATS_UNSPEC}], 28, MSG_DONTWAIT, NULL, 0) = %ld", r, n);
	/* nhmsg: an unnamed scope is bare hex; tcmsg with its kind */
	static const unsigned char nh[] = {AF_INET, 0xc9, 2 /* RTPROT_KERNEL */, 0, 4 /* RTNH_F_ONLINK */, 0, 0, 0};
	n = nlsend(r, RTM_GETNEXTHOP, NLM_F_DUMP, nh, sizeof nh);
	EXPECT("sendto(%ld, [{nlmsg_len=24, nlmsg_type=RTM_GETNEXTHOP, nlmsg_flags=NLM_F_DUMP, nlmsg_seq=0, nlmsg_pid=0}, {nh_family=AF_INET, nh_scope=0xc9, nh_protocol=RTPROT_KERNEL, nh_flags=RTNH_F_ONLINK}], 24, MSG_DONTWAIT, NULL, 0) = %ld", r, n);
	static const unsigned char tc[] = {AF_UNSPEC, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0,
					   10, 0, 1, 0, 'p', 'f', 'i', 'f', 'o', 0};
	n = nlsend(r, RTM_GETQDISC, NLM_F_DUMP, tc, sizeof tc);
	EXPECT("sendto(%ld, [{nlmsg_len=46, nlmsg_type=RTM_GETQDISC, nlmsg_flags=NLM_F_DUMP, nlmsg_seq=0, nlmsg_pid=0}, {tcm_family=AF_UNSPEC, tcm_ifindex=0, tcm_handle=65537, tcm_parent=4294967295, tcm_info=0}, [{nla_len=10, nla_type=TCA_KIND}, \"pfifo\"]], 46, MSG_DONTWAIT, NULL, 0) = %ld", r, n);

	/* rtmsg with a via address; ifinfomsg with nested XDP attributes */
	static const unsigned char via[] = {AF_INET, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 18 /* RTA_VIA */, 0,
					    AF_INET, 0, 12, 34, 56, 78};
	n = nlsend(r, RTM_GETROUTE, NLM_F_DUMP, via, sizeof via);
	EXPECT("sendto(%ld, [{nlmsg_len=38, nlmsg_type=RTM_GETROUTE, nlmsg_flags=NLM_F_DUMP, nlmsg_seq=0, nlmsg_pid=0}, {rtm_family=AF_INET, rtm_dst_len=0, rtm_src_len=0, rtm_tos=0, rtm_table=RT_TABLE_UNSPEC, rtm_protocol=RTPROT_UNSPEC, rtm_scope=RT_SCOPE_UNIVERSE, rtm_type=RTN_UNSPEC, rtm_flags=0}, [{nla_len=10, nla_type=RTA_VIA}, {rtvia_family=AF_INET, rtvia_addr=inet_addr(\"12.34.56.78\")}]], 38, MSG_DONTWAIT, NULL, 0) = %ld", r, n);
	static const unsigned char xdp[] = {AF_UNSPEC, 0, 0x04, 0x03 /* ARPHRD_LOOPBACK */, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					    12, 0, 43 /* IFLA_XDP */, 0, 8, 0, 3 /* IFLA_XDP_FLAGS */, 0, 1, 0, 0, 0};
	n = nlsend(r, RTM_GETLINK, NLM_F_DUMP, xdp, sizeof xdp);
	EXPECT("sendto(%ld, [{nlmsg_len=44, nlmsg_type=RTM_GETLINK, nlmsg_flags=NLM_F_DUMP, nlmsg_seq=0, nlmsg_pid=0}, {ifi_family=AF_UNSPEC, ifi_type=ARPHRD_LOOPBACK, ifi_index=0, ifi_flags=0, ifi_change=0}, [{nla_len=12, nla_type=IFLA_XDP}, [{nla_len=8, nla_type=IFLA_XDP_FLAGS}, XDP_FLAGS_UPDATE_IF_NOEXIST]]], 44, MSG_DONTWAIT, NULL, 0) = %ld", r, n);
	/* sock_diag: a unix_diag_msg (a reply's layout: no NLM_F_REQUEST) with its queue lengths */
	static const unsigned char ud[] = {AF_UNIX, SOCK_STREAM, 1 /* TCP_ESTABLISHED */, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					   12, 0, 4 /* UNIX_DIAG_RQLEN */, 0, 1, 0, 0, 0, 2, 0, 0, 0};
	n = nlsend(sd, SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, ud, sizeof ud);
	EXPECT("sendto(%ld, [{nlmsg_len=44, nlmsg_type=SOCK_DIAG_BY_FAMILY, nlmsg_flags=NLM_F_DUMP, nlmsg_seq=0, nlmsg_pid=0}, {udiag_family=AF_UNIX, udiag_type=SOCK_STREAM, udiag_state=TCP_ESTABLISHED, udiag_ino=0, udiag_cookie=[0, 0]}, [{nla_len=12, nla_type=UNIX_DIAG_RQLEN}, {udiag_rqueue=1, udiag_wqueue=2}]], 44, MSG_DONTWAIT, NULL, 0) = %ld", sd, n);

	/* socket addresses the call fills: the length read at entry, => the one written */
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	struct sockaddr_un un;
	socklen_t len = sizeof un;
	n = syscall(SYS_getsockname, sv[0], &un, &len);
	EXPECT("getsockname(%d, {sa_family=AF_UNIX}, [110 => 2]) = %ld", sv[0], n);
	long t = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	len = 16;
	n = syscall(SYS_getpeername, t, &un, &len);
	EXPECT("getpeername(%ld, %p, [16]) = -1 ENOTCONN (Transport endpoint is not connected)", t, (void *) &un);
	n = syscall(SYS_getpeername, t, NULL, NULL);
	EXPECT("getpeername(%ld, NULL, NULL) = -1 ENOTCONN (Transport endpoint is not connected)", t);

	/* ioctl: requests by name, arguments by the request's kind */
	int v = 5;
	syscall(SYS_ioctl, -1, BLKBSZGET, NULL);
	EXPECT("ioctl(-1, BLKBSZGET, NULL) = -1 EBADF (Bad file descriptor)");
	syscall(SYS_ioctl, -1, BLKROSET, &v);
	EXPECT("ioctl(-1, BLKROSET, [5]) = -1 EBADF (Bad file descriptor)");
	syscall(SYS_ioctl, -1, BLKRRPART, 1);
	EXPECT("ioctl(-1, BLKRRPART) = -1 EBADF (Bad file descriptor)");
	syscall(SYS_ioctl, -1, BLKRASET, 4096UL);
	EXPECT("ioctl(-1, BLKRASET, 4096) = -1 EBADF (Bad file descriptor)");
	syscall(SYS_ioctl, -1, 0x12345678, 0);
	EXPECT("ioctl(-1, _IOC(_IOC_NONE, 0x56, 0x78, 0x1234), 0) = -1 EBADF (Bad file descriptor)");
	return 0;
}
