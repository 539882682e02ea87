/* -e read=SET / -e write=SET (printer level: the lines strace prints after
 * a call for the data it moved), traced with
 *   -e trace=write,read,pwrite64,writev,readv,vmsplice,sendmsg,recvmsg,
 *            sendmmsg,recvmmsg,sendto,recvfrom,mq_timedsend,mq_timedreceive
 *   -e write=41,42,44 -e read=40,43,44
 * fds 40/41 a pipe, 42/43 a datagram socket pair, 44 a message queue, 45 the
 * pipe's write end again but outside the sets. The expectation is written
 * once, at the end (the file is fully buffered), so the traced calls' lines
 * come in one block: the test compares the whole block. */
#include "common.h"
#include <mqueue.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>

#undef EXPECT
#define EXPECT(...) do { fprintf(out, __VA_ARGS__); fputc('\n', out); } while (0)

/* strace's dump of len bytes: offset, two groups of 8 bytes, the printable ones */
static void dump(const void *p, size_t len) {
	const unsigned char *s = p;
	for (size_t off = 0; off < len; off += 16) {
		char hx[64] = "", tx[17] = "";
		size_t n = len - off < 16 ? len - off : 16, k = 0;
		for (size_t i = 0; i < 16; i++) {
			k += i < n ? sprintf(hx + k, "%02x ", s[off + i]) : sprintf(hx + k, "   ");
			if (i == 7)
				k += sprintf(hx + k, " ");
			tx[i] = i < n ? (s[off + i] >= 0x20 && s[off + i] < 0x7f ? s[off + i] : '.') : ' ';
		}
		tx[16] = 0;
		EXPECT(" | %05zx  %s %s |", off, hx, tx);
	}
}

int main(int argc, char **argv) {
	open_out(argc, argv);
	setvbuf(out, NULL, _IOFBF, 1 << 20);
	char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(page + 4096, 4096);
	char *end = page + 4096;
	int p[2], sv[2];
	char buf[64];
	long r;

	if (pipe(p) || socketpair(AF_UNIX, SOCK_DGRAM, 0, sv))
		return 3;
	dup2(p[0], 40);
	dup2(p[1], 41);
	dup2(sv[0], 42);
	dup2(sv[1], 43);
	dup2(p[1], 45);

	/* write: the length argument's bytes (garbage in the fd's upper half is
	 * the kernel's int), two lines of 16 */
	static const char hw[] = "hello, world: 0123456789ABCDEF!";
	r = syscall(SYS_write, G | 41, hw, 31);
	EXPECT("write(41, \"%s\", 31) = %ld", hw, r);
	dump(hw, 31);
	/* a failed read is not dumped */
	r = syscall(SYS_read, 40, end, 64);
	EXPECT("read(40, %p, 64) = -1 EFAULT (%s)", end, strerror(errno));
	/* read: the returned count's bytes */
	r = syscall(SYS_read, G | 40, buf, 64);
	EXPECT("read(40, \"%s\", 64) = %ld", hw, r);
	dump(buf, r);
	/* an fd outside the set: no dump */
	r = syscall(SYS_write, 45, "x\x01y", 3);
	EXPECT("write(45, \"x\\1y\", 3) = %ld", r);
	r = syscall(SYS_read, 40, buf, 64);
	EXPECT("read(40, \"x\\1y\", 64) = %ld", r);
	dump(buf, r);
	/* a failed write is dumped all the same */
	r = syscall(SYS_pwrite64, 41, "abc", 3, 0);
	EXPECT("pwrite64(41, \"abc\", 3, 0) = -1 ESPIPE (%s)", strerror(errno));
	dump("abc", 3);
	/* a buffer that runs into unreadable memory (a pipe takes none of it):
	 * it cannot be read whole, so it is not dumped */
	memcpy(end - 2, "zz", 2);
	r = syscall(SYS_write, 41, end - 2, 4);
	EXPECT("write(41, %p, 4) = -1 EFAULT (%s)", end - 2, strerror(errno));

	/* writev: each iovec whole, its number first; a zero-length one ends it */
	struct iovec wv[3] = {{"ab", 2}, {"", 0}, {"cd", 2}};
	r = syscall(SYS_writev, 41, wv, 3);
	EXPECT("writev(41, [{iov_base=\"ab\", iov_len=2}, {iov_base=\"\", iov_len=0}, {iov_base=\"cd\", iov_len=2}], 3) = %ld", r);
	EXPECT(" * 2 bytes in buffer 0");
	dump("ab", 2);
	/* readv: up to the returned count */
	char r1[1], r2[8];
	struct iovec rv[2] = {{r1, 1}, {r2, 8}};
	r = syscall(SYS_readv, 40, rv, 2);
	EXPECT("readv(40, [{iov_base=\"a\", iov_len=1}, {iov_base=\"bcd\", iov_len=8}], 2) = %ld", r);
	EXPECT(" * 1 bytes in buffer 0");
	dump("a", 1);
	EXPECT(" * 3 bytes in buffer 1");
	dump("bcd", 3);
	/* an iovec array that runs into unreadable memory: no dump */
	struct iovec *cut = (struct iovec *) (end - sizeof(struct iovec));
	cut->iov_base = "ef";
	cut->iov_len = 2;
	r = syscall(SYS_writev, 41, cut, 2);
	EXPECT("writev(41, [{iov_base=\"ef\", iov_len=2}, ... /* %p */], 2) = -1 EFAULT (%s)", end, strerror(errno));
	/* vmsplice: as writev (the write set) */
	struct iovec vv[1] = {{"vm", 2}};
	r = syscall(SYS_vmsplice, 41, vv, 1, 0);
	EXPECT("vmsplice(41, [{iov_base=\"vm\", iov_len=2}], 1, 0) = %ld", r);
	EXPECT(" * 2 bytes in buffer 0");
	dump("vm", 2);
	r = syscall(SYS_read, 40, buf, 64);
	EXPECT("read(40, \"vm\", 64) = %ld", r);
	dump("vm", 2);

	/* sendmsg: its iovecs whole; recvmsg: up to the returned count */
	struct iovec mv[2] = {{"xyz", 3}, {"0123", 4}};
	struct msghdr mh = {.msg_iov = mv, .msg_iovlen = 2};
	r = syscall(SYS_sendmsg, 42, &mh, 0);
	EXPECT("sendmsg(42, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base=\"xyz\", iov_len=3}, {iov_base=\"0123\", iov_len=4}], "
	       "msg_iovlen=2, msg_controllen=0, msg_flags=0}, 0) = %ld", r);
	EXPECT(" * 3 bytes in buffer 0");
	dump("xyz", 3);
	EXPECT(" * 4 bytes in buffer 1");
	dump("0123", 4);
	char m1[16];
	struct iovec mr[1] = {{m1, 16}};
	struct msghdr rh = {.msg_iov = mr, .msg_iovlen = 1};
	r = syscall(SYS_recvmsg, 43, &rh, 0);
	EXPECT("recvmsg(43, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base=\"xyz0123\", iov_len=16}], "
	       "msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = %ld", r);
	EXPECT(" * 7 bytes in buffer 0");
	dump("xyz0123", 7);

	/* sendmmsg/recvmmsg: per message its vector's number and buffer count,
	 * its iovecs up to its msg_len */
	struct iovec a0[2] = {{"one", 3}, {"two", 3}}, a1[1] = {{"three", 5}};
	struct mmsghdr mm[2] = {{.msg_hdr = {.msg_iov = a0, .msg_iovlen = 2}}, {.msg_hdr = {.msg_iov = a1, .msg_iovlen = 1}}};
	r = syscall(SYS_sendmmsg, 42, mm, 2, 0);
	EXPECT("sendmmsg(42, [{msg_hdr={msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base=\"one\", iov_len=3}, {iov_base=\"two\", iov_len=3}], "
	       "msg_iovlen=2, msg_controllen=0, msg_flags=0}, msg_len=6}, {msg_hdr={msg_name=NULL, msg_namelen=0, "
	       "msg_iov=[{iov_base=\"three\", iov_len=5}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, msg_len=5}], 2, 0) = %ld", r);
	EXPECT(" = 2 buffers in vector 0");
	EXPECT(" * 3 bytes in buffer 0");
	dump("one", 3);
	EXPECT(" * 3 bytes in buffer 1");
	dump("two", 3);
	EXPECT(" = 1 buffers in vector 1");
	EXPECT(" * 5 bytes in buffer 0");
	dump("three", 5);
	char b0[8], b1[4], b2[8];
	struct iovec c0[1] = {{b0, 8}}, c1[2] = {{b1, 4}, {b2, 8}};
	struct mmsghdr rm[2] = {{.msg_hdr = {.msg_iov = c0, .msg_iovlen = 1}}, {.msg_hdr = {.msg_iov = c1, .msg_iovlen = 2}}};
	r = syscall(SYS_recvmmsg, 43, rm, 2, MSG_DONTWAIT, NULL);
	EXPECT("recvmmsg(43, [{msg_hdr={msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base=\"onetwo\", iov_len=8}], "
	       "msg_iovlen=1, msg_controllen=0, msg_flags=0}, msg_len=6}, {msg_hdr={msg_name=NULL, msg_namelen=0, "
	       "msg_iov=[{iov_base=\"thre\", iov_len=4}, {iov_base=\"e\", iov_len=8}], msg_iovlen=2, msg_controllen=0, "
	       "msg_flags=0}, msg_len=5}], 2, MSG_DONTWAIT, NULL) = %ld", r);
	EXPECT(" = 1 buffers in vector 0");
	EXPECT(" * 6 bytes in buffer 0");
	dump("onetwo", 6);
	EXPECT(" = 2 buffers in vector 1");
	EXPECT(" * 4 bytes in buffer 0");
	dump("thre", 4);
	EXPECT(" * 1 bytes in buffer 1");
	dump("e", 1);

	/* sendto/recvfrom: as write/read */
	r = syscall(SYS_sendto, 42, "ping\n", 5, 0, NULL, 0);
	EXPECT("sendto(42, \"ping\\n\", 5, 0, NULL, 0) = %ld", r);
	dump("ping\n", 5);
	r = syscall(SYS_recvfrom, 43, buf, 16, 0, NULL, NULL);
	EXPECT("recvfrom(43, \"ping\\n\", 16, 0, NULL, NULL) = %ld", r);
	dump("ping\n", 5);

	/* mq_timedsend/mq_timedreceive: as write/read */
	char qn[64];
	snprintf(qn, sizeof qn, "/tracerd-dumps-%d", getpid());
	struct mq_attr qa = {.mq_maxmsg = 1, .mq_msgsize = 16};
	int q = syscall(SYS_mq_open, qn + 1, O_RDWR | O_CREAT | O_EXCL, 0600, &qa);
	if (q >= 0) {
		dup2(q, 44);
		syscall(SYS_mq_unlink, qn + 1);
		r = syscall(SYS_mq_timedsend, 44, "mq\0!", 4, 7, NULL);
		EXPECT("mq_timedsend(44, \"mq\\0!\", 4, 7, NULL) = %ld", r);
		dump("mq\0!", 4);
		unsigned prio;
		r = syscall(SYS_mq_timedreceive, 44, buf, 16, &prio, NULL);
		EXPECT("mq_timedreceive(44, \"mq\\0!\", 16, [7], NULL) = %ld", r);
		dump("mq\0!", 4);
	}
	fflush(out);
	return 0;
}
