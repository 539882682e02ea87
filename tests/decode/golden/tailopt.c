#include "common.h"
#include <asm/ldt.h>
#include <sys/mman.h>
/* modify_ldt: the struct only when bytecount is its size; the kernel's
 * 32-bit unsigned return of an error (4294967258) with its errno text. */
int main(int argc, char **argv) {
	open_out(argc, argv);
	struct user_desc *u = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(u, 0, sizeof *u);
	u->entry_number = 0xffffffff;
	u->base_addr = 0x1234;
	u->seg_32bit = 1;
	u->contents = 2;
	u->useable = 1;
	long r = syscall(SYS_modify_ldt, G | 0x57, u, sizeof *u);
	unsigned long w = (unsigned long) r;
	if (w >= 0xfffff001UL && w <= 0xffffffffUL) {
		errno = (int) (0x100000000UL - w);
		EXPECT("modify_ldt(87, {entry_number=-1, base_addr=0x001234, limit=00000000, seg_32bit=1, contents=2, read_exec_only=0, limit_in_pages=0, seg_not_present=0, useable=1, lm=0}, 16) = %lu %s (%s)",
		       w, strerrorname_np(errno), strerror(errno));
	}
	u->entry_number = 7;
	r = syscall(SYS_modify_ldt, G | 0x57, u, 15);
	w = (unsigned long) r;
	if (w >= 0xfffff001UL && w <= 0xffffffffUL) {
		errno = (int) (0x100000000UL - w);
		EXPECT("modify_ldt(87, %p, 15) = %lu %s (%s)", u, w, strerrorname_np(errno), strerror(errno));
	}
	r = syscall(SYS_modify_ldt, 0, NULL, 0);
	EXPECT("modify_ldt(0, NULL, 0) = %ld", r);
	return 0;
}
