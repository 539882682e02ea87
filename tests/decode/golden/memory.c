#include "common.h"
#include <sys/mman.h>
/* mmap and mprotect take prot and flags as unsigned long: no garbage there */
int main(int argc, char **argv) {
	open_out(argc, argv);
	void *a = (void *)syscall(SYS_mmap, 0, 8192UL, (PROT_READ | PROT_WRITE), (MAP_PRIVATE | MAP_ANONYMOUS), G | 0xffffffffU, 0L);
	EXPECT("mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = %p", a);
	syscall(SYS_mprotect, a, 4096UL, PROT_NONE);
	EXPECT("mprotect(%p, 4096, PROT_NONE) = 0", a);
	syscall(SYS_mprotect, a, 4096UL, PROT_READ | 0x100);
	EXPECT("mprotect(%p, 4096, PROT_READ|0x100) = -1 EINVAL (Invalid argument)", a);
	syscall(SYS_madvise, a, 4096UL, G | MADV_DONTNEED);
	EXPECT("madvise(%p, 4096, MADV_DONTNEED) = 0", a);
	syscall(SYS_munmap, a, 8192UL);
	EXPECT("munmap(%p, 8192) = 0", a);
	void *b = (void *)syscall(SYS_brk, 0L);
	EXPECT("brk(NULL) = %p", b);
	return 0;
}
