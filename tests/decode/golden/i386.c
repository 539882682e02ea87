/* i386 calls made with int $0x80 from a 64-bit program (built -no-pie so
 * the strings sit below 4 GiB): they decode with their i386 names. */
#include "common.h"
static char path[] = "/nonexistent/i386";
static char msg[] = "hi\n";
static unsigned int block[6] = {0, 4096, 3 /* PROT_READ|PROT_WRITE */, 0x22 /* MAP_PRIVATE|MAP_ANONYMOUS */, 0xffffffffu, 0};
static long int80(long nr, long a, long b, long c) {
	long r;
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	return r;
}
int main(int argc, char **argv) {
	open_out(argc, argv);
	long pid = int80(20 /* getpid */, 0, 0, 0);
	EXPECT("getpid() = %ld", pid);
	int80(5 /* open */, (long)path, O_RDONLY, 0);
	EXPECT("open(\"/nonexistent/i386\", O_RDONLY) = -1 ENOENT (No such file or directory)");
	int80(4 /* write */, 1, (long)msg, 3);
	EXPECT("write(1, \"hi\\n\", 3) = 3");
	long m = int80(90 /* old mmap: its six arguments in a block */, (long)block, 0, 0);
	EXPECT("mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = %#lx", m & 0xffffffffUL);
	int80(6 /* close */, -1, 0, 0);
	EXPECT("close(-1) = -1 EBADF (Bad file descriptor)");
	return 0;
}
