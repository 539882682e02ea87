#include "common.h"
int main(int argc, char **argv) {
	open_out(argc, argv);
	int p[2];
	syscall(SYS_pipe2, p, G | O_CLOEXEC);
	EXPECT("pipe2([%d, %d], O_CLOEXEC) = 0", p[0], p[1]);
	syscall(SYS_write, G | p[1], "hello\n\t\"x\\\001\0017", 13UL);
	EXPECT("write(%d, \"hello\\n\\t\\\"x\\\\\\1\\0017\", 13) = 13", p[1]);
	char buf[64];
	syscall(SYS_read, G | p[0], buf, 64UL);
	EXPECT("read(%d, \"hello\\n\\t\\\"x\\\\\\1\\0017\", 64) = 13", p[0]);
	char big[100];
	memset(big, 'x', sizeof big);
	syscall(SYS_write, p[1], big, 100UL);
	EXPECT("write(%d, \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"..., 100) = 100", p[1]);
	syscall(SYS_fcntl, G | p[0], G | F_GETFD);
	EXPECT("fcntl(%d, F_GETFD) = 0x1 (flags FD_CLOEXEC)", p[0]);
	syscall(SYS_fcntl, p[0], F_SETFD, 0);
	EXPECT("fcntl(%d, F_SETFD, 0) = 0", p[0]);
	syscall(SYS_fcntl, p[0], F_GETFL);
	EXPECT("fcntl(%d, F_GETFL) = 0 (flags O_RDONLY)", p[0]);
	syscall(SYS_lseek, p[0], 0L, G | 77);
	EXPECT("lseek(%d, 0, 0x4d /* SEEK_??? */) = -1 EINVAL (Invalid argument)", p[0]);
	long r = syscall(SYS_dup3, G | p[0], G | 100, O_CLOEXEC);
	EXPECT("dup3(%d, 100, O_CLOEXEC) = 100", p[0]);
	syscall(SYS_close, G | (unsigned)-1);
	EXPECT("close(-1) = -1 EBADF (Bad file descriptor)");
	syscall(SYS_ioctl, p[0], G | 0x5401, buf);
	EXPECT("ioctl(%d, TCGETS, %p) = -1 ENOTTY (Inappropriate ioctl for device)", p[0], buf);
	return 0;
}
