#include "common.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
/* sendmsg/recvmsg: the name, the iovecs and the control messages behind the
 * msghdr's pointers (the MSGHDR fetch op); writev/readv: each element's data
 * up to -s, out of the return value in all at exit. */
int main(int argc, char **argv) {
	open_out(argc, argv);
	int sv[2];
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	int one = 1;
	setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
	union { char b[CMSG_SPACE(2 * sizeof(int)) + CMSG_SPACE(sizeof(struct ucred))]; struct cmsghdr align; } ctl;
	memset(&ctl, 0, sizeof ctl);
	struct iovec iov[2] = {{"hello", 5}, {"world!", 6}};
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2, .msg_control = ctl.b, .msg_controllen = sizeof ctl.b};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(2 * sizeof(int));
	int fds[2] = {0, 1};
	memcpy(CMSG_DATA(c), fds, sizeof fds);
	c = CMSG_NXTHDR(&m, c);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_CREDENTIALS;
	c->cmsg_len = CMSG_LEN(sizeof(struct ucred));
	struct ucred u = {getpid(), getuid(), getgid()};
	memcpy(CMSG_DATA(c), &u, sizeof u);
	long r = syscall(SYS_sendmsg, G | sv[0], &m, G | 0);
	EXPECT("sendmsg(%d, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base=\"hello\", iov_len=5}, {iov_base=\"world!\", iov_len=6}], msg_iovlen=2, "
	       "msg_control=[{cmsg_len=24, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[0, 1]}, "
	       "{cmsg_len=28, cmsg_level=SOL_SOCKET, cmsg_type=SCM_CREDENTIALS, cmsg_data={pid=%d, uid=%d, gid=%d}}], msg_controllen=56, msg_flags=0}, 0) = %ld",
	       sv[0], u.pid, u.uid, u.gid, r);
	char rb[64], rc[256];
	struct sockaddr_un from;
	struct iovec ri = {rb, sizeof rb};
	struct msghdr rm = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &ri, .msg_iovlen = 1, .msg_control = rc, .msg_controllen = sizeof rc};
	r = syscall(SYS_recvmsg, sv[1], &rm, 0);
	struct cmsghdr *c1 = CMSG_FIRSTHDR(&rm), *c2 = CMSG_NXTHDR(&rm, c1);
	int got[2];
	memcpy(got, CMSG_DATA(c2), sizeof got);
	EXPECT("recvmsg(%d, {msg_name=%p, msg_namelen=110 => 0, msg_iov=[{iov_base=\"helloworld!\", iov_len=64}], msg_iovlen=1, "
	       "msg_control=[{cmsg_len=28, cmsg_level=SOL_SOCKET, cmsg_type=SCM_CREDENTIALS, cmsg_data={pid=%d, uid=%d, gid=%d}}, "
	       "{cmsg_len=24, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[%d, %d]}], msg_controllen=56, msg_flags=0}, 0) = %ld",
	       sv[1], (void *)&from, u.pid, u.uid, u.gid, got[0], got[1], r);
	/* a named datagram, and a control block too short for one header */
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(9)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct iovec x = {"x", 1};
	struct msghdr m2 = {.msg_name = &a, .msg_namelen = sizeof a, .msg_iov = &x, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = 7};
	r = syscall(SYS_sendmsg, s, &m2, MSG_DONTWAIT);
	EXPECT("sendmsg(%d, {msg_name={sa_family=AF_INET, sin_port=htons(9), sin_addr=inet_addr(\"127.0.0.1\")}, msg_namelen=16, "
	       "msg_iov=[{iov_base=\"x\", iov_len=1}], msg_iovlen=1, msg_control=%p, msg_controllen=7, msg_flags=0}, MSG_DONTWAIT) = %ld",
	       s, (void *)ctl.b, r);
	/* bad pointers: the iovec array, and the msghdr itself */
	struct msghdr bad = {.msg_iov = (void *)8, .msg_iovlen = 3};
	syscall(SYS_sendmsg, s, &bad, 0);
	EXPECT("sendmsg(%d, {msg_name=NULL, msg_namelen=0, msg_iov=0x8, msg_iovlen=3, msg_controllen=0, msg_flags=0}, 0) = -1 EFAULT (Bad address)", s);
	syscall(SYS_sendmsg, s, (void *)16, 0);
	EXPECT("sendmsg(%d, 0x10, 0) = -1 EFAULT (Bad address)", s);
	/* elements longer than -s, and a read shorter than the buffers (SO_PASSCRED
	 * with no room for the credentials: MSG_CTRUNC) */
	char big[100];
	memset(big, 'z', sizeof big);
	struct iovec bi[3] = {{big, 40}, {big, 40}, {big, 20}};
	r = syscall(SYS_writev, sv[0], bi, 3);
	EXPECT("writev(%d, [{iov_base=\"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\"..., iov_len=40}, {iov_base=\"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\"..., iov_len=40}, "
	       "{iov_base=\"zzzzzzzzzzzzzzzzzzzz\", iov_len=20}], 3) = %ld", sv[0], r);
	char r2[60];
	struct iovec ri2[2] = {{r2, 30}, {r2 + 30, 30}};
	struct msghdr rr = {.msg_iov = ri2, .msg_iovlen = 2};
	r = syscall(SYS_recvmsg, sv[1], &rr, MSG_DONTWAIT);
	EXPECT("recvmsg(%d, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base=\"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\", iov_len=30}, {iov_base=\"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\", iov_len=30}], "
	       "msg_iovlen=2, msg_controllen=0, msg_flags=MSG_CTRUNC|MSG_TRUNC}, MSG_DONTWAIT) = %ld", sv[1], r);
	/* sendmmsg/recvmmsg: the first `ret` messages, each with its msg_len */
	struct iovec mv1 = {"one", 3}, mv2 = {"two!", 4};
	struct mmsghdr mm[2];
	memset(mm, 0, sizeof mm);
	mm[0].msg_hdr.msg_iov = &mv1;
	mm[0].msg_hdr.msg_iovlen = 1;
	mm[1].msg_hdr.msg_iov = &mv2;
	mm[1].msg_hdr.msg_iovlen = 1;
	r = syscall(SYS_sendmmsg, sv[0], mm, 2, 0);
	EXPECT("sendmmsg(%d, [{msg_hdr={msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base=\"one\", iov_len=3}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, msg_len=3}, "
	       "{msg_hdr={msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base=\"two!\", iov_len=4}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, msg_len=4}], 2, 0) = %ld", sv[0], r);
	char b1[8], b2[8];
	struct iovec i1 = {b1, 8}, i2 = {b2, 8};
	struct mmsghdr rv[3];
	memset(rv, 0, sizeof rv);
	rv[0].msg_hdr.msg_iov = &i1;
	rv[0].msg_hdr.msg_iovlen = 1;
	rv[1].msg_hdr.msg_iov = &i2;
	rv[1].msg_hdr.msg_iovlen = 1;
	rv[2].msg_hdr.msg_iov = &i2;
	rv[2].msg_hdr.msg_iovlen = 1;
	r = syscall(SYS_recvmmsg, sv[1], rv, 3, MSG_DONTWAIT, NULL);
	EXPECT("recvmmsg(%d, [{msg_hdr={msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base=\"one\", iov_len=8}], msg_iovlen=1, msg_controllen=0, msg_flags=MSG_CTRUNC}, msg_len=3}, "
	       "{msg_hdr={msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base=\"two!\", iov_len=8}], msg_iovlen=1, msg_controllen=0, msg_flags=MSG_CTRUNC}, msg_len=4}], 3, MSG_DONTWAIT, NULL) = %ld", sv[1], r);
	r = syscall(SYS_sendmmsg, sv[0], (void *)8, 2, 0);
	EXPECT("sendmmsg(%d, 0x8, 2, 0) = -1 EFAULT (Bad address)", sv[0]);
	return 0;
}
