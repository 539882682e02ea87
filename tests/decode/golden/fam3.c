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

static const char *rc(long r) {
	static char b[256];
	if (r >= 0) { snprintf(b, sizeof b, "%ld", r); return b; }
	const char *n = errno == E2BIG ? "E2BIG" : errno == EINVAL ? "EINVAL" : errno == EPERM ? "EPERM"
		: errno == EFAULT ? "EFAULT" : errno == EACCES ? "EACCES" : errno == EBADF ? "EBADF" : errno == ESRCH ? "ESRCH"
		: errno == ENOTSOCK ? "ENOTSOCK" : errno == EOPNOTSUPP ? "EOPNOTSUPP" : errno == ENOKEY ? "ENOKEY" : "E???";
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
	return 0;
}
