/* Netlink payloads by family table: sock_diag requests of unix, netlink,
 * packet and SMC sockets and a message holding its family alone, replies'
 * attributes (packet info, inet shutdown, SMC fallback), an inet request's
 * filter bytecode, interface stats (a bond's 802.3ad counter); route's
 * bridge mdb entries (RTM_GETMDB with an MDBA_MDB nest), a bridge port's
 * attributes (IFLA_PROTINFO of an AF_BRIDGE link), an inet6 device's
 * (IFLA_PROTINFO of an AF_INET6 link), a virtual function's (IFLA_VFINFO_LIST). The kernel may
 * refuse them: the return value is printed as the call returned. */
#include "common.h"
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <linux/netlink_diag.h>
#include <linux/packet_diag.h>
#include <linux/if_bridge.h>
#include <linux/smc_diag.h>
#include <linux/inet_diag.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <arpa/inet.h>
#ifndef AF_SMC
#define AF_SMC 43
#endif
static char ret[64];
static const char *rc(long n) {
	if (n < 0)
		snprintf(ret, sizeof ret, "-1 %s (%s)", errno == EINVAL ? "EINVAL" : errno == ENOENT ? "ENOENT" : "E?",
			 strerror(errno));
	else
		snprintf(ret, sizeof ret, "%ld", n);
	return ret;
}
/* one message: a header of type and flags, then plen bytes of payload */
static long nlsend(long fd, int type, int flags, const void *payload, unsigned plen) {
	static unsigned char buf[256];
	struct nlmsghdr h = {.nlmsg_len = sizeof h + plen, .nlmsg_type = type, .nlmsg_flags = flags};
	memcpy(buf, &h, sizeof h);
	memcpy(buf + sizeof h, payload, plen);
	return syscall(SYS_sendto, fd, buf, sizeof h + plen, MSG_DONTWAIT, NULL, 0);
}
#define HDR(len, type, flags) "{nlmsg_len=" #len ", nlmsg_type=" type ", nlmsg_flags=" flags ", nlmsg_seq=0, nlmsg_pid=0}"
int main(int argc, char **argv) {
	open_out(argc, argv);
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	long sd = socket(AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG);
	bind(sd, (void *) &sa, sizeof sa); /* bound: strace finds the socket's family (not traced) */
	struct unix_diag_req ur = {.sdiag_family = AF_UNIX, .sdiag_protocol = 0, .udiag_states = 1 << 10,
				   .udiag_ino = 7, .udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER,
				   .udiag_cookie = {1, 2}};
	long n = nlsend(sd, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, &ur, sizeof ur);
	EXPECT("sendto(%ld, [" HDR(40, "SOCK_DIAG_BY_FAMILY", "NLM_F_REQUEST") ", {sdiag_family=AF_UNIX, sdiag_protocol=0, "
	       "udiag_states=1<<TCP_LISTEN, udiag_ino=7, udiag_show=UDIAG_SHOW_NAME|UDIAG_SHOW_PEER, "
	       "udiag_cookie=[1, 2]}], 40, MSG_DONTWAIT, NULL, 0) = %s", sd, rc(n));
	n = nlsend(sd, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, &ur, 5);
	EXPECT("sendto(%ld, [" HDR(21, "SOCK_DIAG_BY_FAMILY", "NLM_F_REQUEST") ", {sdiag_family=AF_UNIX, ...}], 21, "
	       "MSG_DONTWAIT, NULL, 0) = %s", sd, rc(n));
	n = nlsend(sd, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, &ur, 1);
	EXPECT("sendto(%ld, [" HDR(17, "SOCK_DIAG_BY_FAMILY", "NLM_F_REQUEST") ", {family=AF_UNIX}], 17, "
	       "MSG_DONTWAIT, NULL, 0) = %s", sd, rc(n));
	struct netlink_diag_req nr = {.sdiag_family = AF_NETLINK, .sdiag_protocol = NDIAG_PROTO_ALL, .ndiag_ino = 3,
				      .ndiag_show = NDIAG_SHOW_GROUPS, .ndiag_cookie = {4, 5}};
	n = nlsend(sd, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, &nr, sizeof nr);
	EXPECT("sendto(%ld, [" HDR(36, "SOCK_DIAG_BY_FAMILY", "NLM_F_REQUEST") ", {sdiag_family=AF_NETLINK, "
	       "sdiag_protocol=NDIAG_PROTO_ALL, ndiag_ino=3, ndiag_show=NDIAG_SHOW_GROUPS, ndiag_cookie=[4, 5]}], 36, "
	       "MSG_DONTWAIT, NULL, 0) = %s", sd, rc(n));
	struct packet_diag_req pr = {.sdiag_family = AF_PACKET, .pdiag_ino = 9, .pdiag_show = PACKET_SHOW_INFO | 0x100};
	n = nlsend(sd, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, &pr, sizeof pr);
	EXPECT("sendto(%ld, [" HDR(36, "SOCK_DIAG_BY_FAMILY", "NLM_F_REQUEST") ", {sdiag_family=AF_PACKET, "
	       "sdiag_protocol=0, pdiag_ino=9, pdiag_show=PACKET_SHOW_INFO|0x100, pdiag_cookie=[0, 0]}], 36, "
	       "MSG_DONTWAIT, NULL, 0) = %s", sd, rc(n));
	struct smc_diag_req sr = {.diag_family = AF_SMC, .diag_ext = 1, .id = {.idiag_sport = htons(80)}};
	n = nlsend(sd, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, &sr, sizeof sr);
	EXPECT("sendto(%ld, [" HDR(68, "SOCK_DIAG_BY_FAMILY", "NLM_F_REQUEST") ", {diag_family=AF_SMC, "
	       "diag_ext=1<<(SMC_DIAG_CONNINFO-1), id={idiag_sport=htons(80), idiag_dport=htons(0), "
	       "idiag_src=inet_addr(\"0.0.0.0\"), idiag_dst=inet_addr(\"0.0.0.0\"), idiag_if=0, idiag_cookie=[0, 0]}}], "
	       "68, MSG_DONTWAIT, NULL, 0) = %s", sd, rc(n));
	/* replies' attributes: a packet socket's info, an inet socket's shutdown
	 * state (printed in the verbose style whatever -X says) */
	struct {
		struct packet_diag_msg m;
		struct nlattr a;
		struct packet_diag_info i;
	} pm = {.m = {.pdiag_family = AF_PACKET, .pdiag_type = SOCK_RAW, .pdiag_num = 3},
		.a = {.nla_len = sizeof(struct nlattr) + sizeof(struct packet_diag_info), .nla_type = PACKET_DIAG_INFO},
		.i = {.pdi_index = 1, .pdi_version = 1, .pdi_reserve = 2, .pdi_copy_thresh = 3, .pdi_tstamp = 4,
		      .pdi_flags = PDI_RUNNING | PDI_LOSS | 0x40}};
	n = nlsend(sd, SOCK_DIAG_BY_FAMILY, 0, &pm, sizeof pm);
	EXPECT("sendto(%ld, [" HDR(60, "SOCK_DIAG_BY_FAMILY", "0") ", {pdiag_family=AF_PACKET, pdiag_type=SOCK_RAW, "
	       "pdiag_num=ETH_P_ALL, pdiag_ino=0, pdiag_cookie=[0, 0]}, [{nla_len=28, nla_type=PACKET_DIAG_INFO}, "
	       "{pdi_index=if_nametoindex(\"lo\"), pdi_version=TPACKET_V2, pdi_reserve=2, pdi_copy_thresh=3, "
	       "pdi_tstamp=4, pdi_flags=PDI_RUNNING|PDI_LOSS|0x40}]], 60, MSG_DONTWAIT, NULL, 0) = %s", sd, rc(n));
	struct {
		struct inet_diag_msg m;
		struct nlattr a;
		unsigned char v;
	} __attribute__((packed)) im = {.m = {.idiag_family = AF_INET, .idiag_state = 10},
		.a = {.nla_len = sizeof(struct nlattr) + 1, .nla_type = INET_DIAG_SHUTDOWN}, .v = 3};
	n = nlsend(sd, SOCK_DIAG_BY_FAMILY, 0, &im, sizeof im);
	EXPECT("sendto(%ld, [" HDR(93, "SOCK_DIAG_BY_FAMILY", "0") ", {idiag_family=AF_INET, idiag_state=TCP_LISTEN, "
	       "idiag_timer=0, idiag_retrans=0, id={idiag_sport=htons(0), idiag_dport=htons(0), "
	       "idiag_src=inet_addr(\"0.0.0.0\"), idiag_dst=inet_addr(\"0.0.0.0\"), idiag_if=0, idiag_cookie=[0, 0]}, "
	       "idiag_expires=0, idiag_rqueue=0, idiag_wqueue=0, idiag_uid=0, idiag_inode=0}, [{nla_len=5, "
	       "nla_type=INET_DIAG_SHUTDOWN}, 0x3 /* RCV_SHUTDOWN|SEND_SHUTDOWN */]], 93, MSG_DONTWAIT, NULL, 0) = %s",
	       sd, rc(n));
	/* an SMC reply's fallback reasons: the kernel's own codes, printed in
	 * the verbose style */
	struct {
		struct smc_diag_msg m;
		struct nlattr a;
		struct smc_diag_fallback f;
	} __attribute__((packed)) sm = {.m = {.diag_family = AF_SMC, .diag_state = 1},
		.a = {.nla_len = sizeof(struct nlattr) + 8, .nla_type = SMC_DIAG_FALLBACK},
		.f = {.reason = 0x03020000, .peer_diagnosis = 0}};
	n = nlsend(sd, SOCK_DIAG_BY_FAMILY, 0, &sm, sizeof sm);
	EXPECT("sendto(%ld, [" HDR(92, "SOCK_DIAG_BY_FAMILY", "0") ", {diag_family=AF_SMC, diag_state=SMC_ACTIVE, "
	       "diag_fallback=SMC_DIAG_MODE_SMCR, diag_shutdown=0, id={idiag_sport=htons(0), idiag_dport=htons(0), "
	       "idiag_src=inet_addr(\"0.0.0.0\"), idiag_dst=inet_addr(\"0.0.0.0\"), idiag_if=0, idiag_cookie=[0, 0]}, "
	       "diag_uid=0, diag_inode=0}, [{nla_len=12, nla_type=SMC_DIAG_FALLBACK}, {reason=0x3020000 "
	       "/* SMC_CLC_DECL_IPSEC */, peer_diagnosis=0 /* SMC_CLC_DECL_??? */}]], 92, MSG_DONTWAIT, NULL, 0) = %s",
	       sd, rc(n));
	/* an inet request's filter bytecode: a source-address condition */
	struct {
		struct inet_diag_req_v2 r;
		struct nlattr a;
		struct inet_diag_bc_op op;
		struct inet_diag_hostcond c;
		unsigned char addr[4];
	} __attribute__((packed)) bc = {.r = {.sdiag_family = AF_INET, .sdiag_protocol = IPPROTO_TCP},
		.a = {.nla_len = sizeof(struct nlattr) + 16, .nla_type = INET_DIAG_REQ_BYTECODE},
		.op = {.code = INET_DIAG_BC_S_COND, .yes = 16, .no = 20},
		.c = {.family = AF_INET, .prefix_len = 8, .port = 80}, .addr = {10, 0, 0, 1}};
	n = nlsend(sd, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, &bc, sizeof bc);
	EXPECT("sendto(%ld, [" HDR(92, "SOCK_DIAG_BY_FAMILY", "NLM_F_REQUEST") ", {sdiag_family=AF_INET, "
	       "sdiag_protocol=IPPROTO_TCP, idiag_ext=0, idiag_states=0, id={idiag_sport=htons(0), idiag_dport=htons(0), "
	       "idiag_src=inet_addr(\"0.0.0.0\"), idiag_dst=inet_addr(\"0.0.0.0\"), idiag_if=0, idiag_cookie=[0, 0]}}, "
	       "[{nla_len=20, nla_type=INET_DIAG_REQ_BYTECODE}, {code=INET_DIAG_BC_S_COND, yes=16, no=20}, "
	       "{family=AF_INET, prefix_len=8, port=80, addr=inet_addr(\"10.0.0.1\")}]], 92, MSG_DONTWAIT, NULL, 0) = %s",
	       sd, rc(n));
	/* route: a bridge mdb entry inside MDBA_MDB / MDBA_MDB_ENTRY */
	long rt = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	bind(rt, (void *) &sa, sizeof sa);
	struct {
		struct br_port_msg m;
		struct nlattr mdb, entry, info;
		struct br_mdb_entry e;
	} mdb = {
		.m = {.family = AF_UNSPEC},
		.mdb = {sizeof(struct nlattr) * 3 + sizeof(struct br_mdb_entry), MDBA_MDB},
		.entry = {sizeof(struct nlattr) * 2 + sizeof(struct br_mdb_entry), MDBA_MDB_ENTRY},
		.info = {sizeof(struct nlattr) + sizeof(struct br_mdb_entry), MDBA_MDB_ENTRY_INFO},
		.e = {.ifindex = 0, .state = MDB_PERMANENT, .flags = MDB_FLAGS_OFFLOAD | MDB_FLAGS_FAST_LEAVE, .vid = 3,
		      .addr = {.u.ip4 = htonl(0xe0000001), .proto = htons(AF_INET)}},
	};
	n = nlsend(rt, RTM_GETMDB, NLM_F_REQUEST | NLM_F_DUMP, &mdb, sizeof mdb);
	EXPECT("sendto(%ld, [" HDR(64, "RTM_GETMDB", "NLM_F_REQUEST|NLM_F_DUMP") ", {family=AF_UNSPEC, ifindex=0}, "
	       "[{nla_len=40, nla_type=MDBA_MDB}, [{nla_len=36, nla_type=MDBA_MDB_ENTRY}, [{nla_len=32, "
	       "nla_type=MDBA_MDB_ENTRY_INFO}, {ifindex=0, state=MDB_PERMANENT, flags=MDB_FLAGS_OFFLOAD|MDB_FLAGS_FAST_LEAVE, "
	       "vid=3, addr={u=inet_addr(\"224.0.0.1\"), proto=htons(AF_INET)}}]]]], 64, MSG_DONTWAIT, NULL, 0) = %s",
	       rt, rc(n));
	struct {
		struct ifinfomsg i;
		struct nlattr protinfo, cost;
		unsigned int v;
		struct nlattr id;
		unsigned char bid[8];
	} port = {
		.i = {.ifi_family = AF_BRIDGE},
		.protinfo = {sizeof(struct nlattr) * 3 + 4 + 8, IFLA_PROTINFO},
		.cost = {sizeof(struct nlattr) + 4, IFLA_BRPORT_COST}, .v = 100,
		.id = {sizeof(struct nlattr) + 8, IFLA_BRPORT_ROOT_ID}, .bid = {0x80, 0, 2, 0, 0, 0, 0, 1},
	};
	n = nlsend(rt, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, &port, sizeof port);
	EXPECT("sendto(%ld, [" HDR(56, "RTM_GETLINK", "NLM_F_REQUEST|NLM_F_DUMP") ", {ifi_family=AF_BRIDGE, "
	       "ifi_type=ARPHRD_NETROM, ifi_index=0, ifi_flags=0, ifi_change=0}, [{nla_len=24, nla_type=IFLA_PROTINFO}, "
	       "[[{nla_len=8, nla_type=IFLA_BRPORT_COST}, 100], [{nla_len=12, nla_type=IFLA_BRPORT_ROOT_ID}, "
	       "{prio=[128, 0], addr=02:00:00:00:00:01}]]]], 56, MSG_DONTWAIT, NULL, 0) = %s", rt, rc(n));
	struct {
		struct ifinfomsg i;
		struct nlattr protinfo, conf;
		int v[2];
	} inet6 = {
		.i = {.ifi_family = AF_INET6},
		.protinfo = {sizeof(struct nlattr) * 2 + 8, IFLA_PROTINFO},
		.conf = {sizeof(struct nlattr) + 8, IFLA_INET6_CONF}, .v = {1, 64},
	};
	n = nlsend(rt, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, &inet6, sizeof inet6);
	EXPECT("sendto(%ld, [" HDR(48, "RTM_GETLINK", "NLM_F_REQUEST|NLM_F_DUMP") ", {ifi_family=AF_INET6, "
	       "ifi_type=ARPHRD_NETROM, ifi_index=0, ifi_flags=0, ifi_change=0}, [{nla_len=16, nla_type=IFLA_PROTINFO}, "
	       "[{nla_len=12, nla_type=IFLA_INET6_CONF}, [[DEVCONF_FORWARDING]=1, [DEVCONF_HOPLIMIT]=64]]]], 48, "
	       "MSG_DONTWAIT, NULL, 0) = %s", rt, rc(n));
	struct {
		struct ifinfomsg i;
		struct nlattr list, info, vlan;
		unsigned int v[3];
	} vf = {
		.i = {.ifi_family = AF_UNSPEC},
		.list = {sizeof(struct nlattr) * 3 + 12, IFLA_VFINFO_LIST},
		.info = {sizeof(struct nlattr) * 2 + 12, IFLA_VF_INFO},
		.vlan = {sizeof(struct nlattr) + 12, IFLA_VF_VLAN}, .v = {1, 100, 3},
	};
	n = nlsend(rt, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, &vf, sizeof vf);
	EXPECT("sendto(%ld, [" HDR(56, "RTM_GETLINK", "NLM_F_REQUEST|NLM_F_DUMP") ", {ifi_family=AF_UNSPEC, "
	       "ifi_type=ARPHRD_NETROM, ifi_index=0, ifi_flags=0, ifi_change=0}, [{nla_len=24, nla_type=IFLA_VFINFO_LIST}, "
	       "[{nla_len=20, nla_type=IFLA_VF_INFO}, [{nla_len=16, nla_type=IFLA_VF_VLAN}, {vf=1, vlan=100, qos=3}]]]], "
	       "56, MSG_DONTWAIT, NULL, 0) = %s", rt, rc(n));
	/* interface stats: a bond's 802.3ad counter three nests down */
	struct {
		struct if_stats_msg m;
		struct nlattr xstats, bond, ad, rx;
		unsigned long long v;
	} __attribute__((packed)) st = {
		.xstats = {sizeof(struct nlattr) * 4 + 8, IFLA_STATS_LINK_XSTATS},
		.bond = {sizeof(struct nlattr) * 3 + 8, LINK_XSTATS_TYPE_BOND},
		.ad = {sizeof(struct nlattr) * 2 + 8, 1 /* BOND_XSTATS_3AD (linux/if_bonding.h clashes with net/if.h) */},
		.rx = {sizeof(struct nlattr) + 8, 0 /* BOND_3AD_STAT_LACPDU_RX */}, .v = 42,
	};
	n = nlsend(rt, RTM_GETSTATS, NLM_F_REQUEST, &st, sizeof st);
	EXPECT("sendto(%ld, [" HDR(52, "RTM_GETSTATS", "NLM_F_REQUEST") ", {family=AF_UNSPEC, ifindex=0, filter_mask=0}, "
	       "[{nla_len=24, nla_type=IFLA_STATS_LINK_XSTATS}, [{nla_len=20, nla_type=LINK_XSTATS_TYPE_BOND}, "
	       "[{nla_len=16, nla_type=BOND_XSTATS_3AD}, [{nla_len=12, nla_type=BOND_3AD_STAT_LACPDU_RX}, 42]]]]], "
	       "52, MSG_DONTWAIT, NULL, 0) = %s", rt, rc(n));
	return 0;
}
