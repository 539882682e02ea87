#include "common.h"
#include <time.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <linux/futex.h>
/* Table-wide classes of argument printing, one call each: C widths and
 * signedness (uid_t, unsigned long counts, 64-bit flag words), flag sets
 * with every name strace 6.1 knows, octal returns, annotated returns,
 * NULL, unreadable memory printed as its address, a PATH_MAX path. */
int main(int argc, char **argv) {
	open_out(argc, argv);
	long r;
	/* uid_t: unsigned, but (uid_t)-1 is -1 */
	r = syscall(SYS_chown, "/nonexistent-golden", G | 0xffff0000UL, G | 0xffffffffUL);
	EXPECT("chown(\"/nonexistent-golden\", 4294901760, -1) = %s", res(r));
	/* umask's mode and return: %#03o */
	syscall(SYS_umask, 022);
	r = syscall(SYS_umask, G | 0126);
	EXPECT("umask(0126) = 022");
	r = syscall(SYS_umask, 022);
	EXPECT("umask(022) = 0126");
	/* every name of the set: __O_SYNC is O_SYNC without O_DSYNC */
	r = syscall(SYS_openat, AT_FDCWD, "/nonexistent-golden", 04000000);
	EXPECT("openat(AT_FDCWD, \"/nonexistent-golden\", O_RDONLY|__O_SYNC) = %s", res(r));
	/* a 64-bit mask and the directory fd FAN_NOFD */
	r = syscall(SYS_fanotify_mark, -1, 0, 0xffffffff00000000UL, -1, NULL);
	EXPECT("fanotify_mark(-1, 0, 0xffffffff00000000 /* FAN_??? */, FAN_NOFD, NULL) = %s", res(r));
	/* memfd_secret's own set: O_CLOEXEC, the rest bare */
	r = syscall(SYS_memfd_secret, 0xde97faceUL);
	EXPECT("memfd_secret(0xde97face) = %s", res(r));
	/* unshare takes an unsigned long */
	r = syscall(SYS_unshare, 0x1234567800000000UL);
	EXPECT("unshare(0x1234567800000000 /* CLONE_??? */) = %s", res(r));
	/* mknod: the mode with its type, the device only for device files */
	r = syscall(SYS_mknodat, -1, "golden-node", G | S_IFCHR | 0600, G | makedev(1, 3));
	EXPECT("mknodat(-1, \"golden-node\", S_IFCHR|0600, makedev(0x1, 0x3)) = %s", res(r));
	r = syscall(SYS_mknod, "/nonexistent-golden/x", G | S_IFREG | 07, G | makedev(1, 3));
	EXPECT("mknod(\"/nonexistent-golden/x\", S_IFREG|007) = %s", res(r));
	/* futex: the value unsigned, FUTEX_WAKE_OP's operation, an unknown op */
	int fx = 0, fy = 0;
	r = syscall(SYS_futex, &fx, FUTEX_WAKE_OP, 1, 0, &fy, 0);
	EXPECT("futex(%p, FUTEX_WAKE_OP, 1, 0, %p, FUTEX_OP_SET<<28|0<<12|FUTEX_OP_CMP_EQ<<24|0) = %s", &fx, &fy, res(r));
	r = syscall(SYS_futex, &fx, 0x101, 0xfffffffeU, 0, 0, 0);
	EXPECT("futex(%p, 0x101 /* FUTEX_??? */, 4294967294) = %s", &fx, res(r));
	/* mmap's type by name (MAP_FILE is 0) and the huge page size */
	r = syscall(SYS_mmap, 0, 4096UL, PROT_READ, 0x80000000UL | MAP_FIXED, -1L, 0L);
	EXPECT("mmap(NULL, 4096, PROT_READ, MAP_FILE|MAP_FIXED|32<<MAP_HUGE_SHIFT, -1, 0) = %s", res(r));
	/* annotated returns */
	r = syscall(SYS_sched_getscheduler, 0);
	EXPECT("sched_getscheduler(0) = %ld (SCHED_OTHER)", r);
	time_t t = syscall(SYS_time, NULL);
	char d[64], z[16];
	struct tm *tm = localtime(&t);
	strftime(d, sizeof d, "%FT%T", tm);
	strftime(z, sizeof z, "%z", tm);
	EXPECT("time(NULL) = %ld (%s%s)", (long)t, d, z);
	/* wait4's options in strace 6.1's names */
	r = syscall(SYS_wait4, -1, NULL, G | WNOHANG | WUNTRACED, NULL);
	EXPECT("wait4(-1, NULL, WNOHANG|WSTOPPED, NULL) = %s", res(r));
	/* readv's count is an unsigned long */
	r = syscall(SYS_readv, -1, NULL, 0xfffffffffffffffeUL);
	EXPECT("readv(-1, NULL, 18446744073709551614) = %s", res(r));
	/* NULL where strace prints NULL */
	r = syscall(SYS_add_key, NULL, NULL, NULL, 0UL, -1);
	EXPECT("add_key(NULL, NULL, NULL, 0, KEY_SPEC_THREAD_KEYRING) = %s", res(r));
	/* unreadable memory: a string running into an unmapped page is printed as its address */
	char *pg = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(pg + 4096, 4096);
	char *last = pg + 4095;
	*last = '\377';
	r = syscall(SYS_faccessat, -1, last, F_OK);
	EXPECT("faccessat(-1, %p, F_OK) = %s", last, res(r));
	/* an attribute value beyond XATTR_SIZE_MAX: the address */
	r = syscall(SYS_setxattr, "/nonexistent-golden", "user.golden", pg, 65537UL, 0);
	EXPECT("setxattr(\"/nonexistent-golden\", \"user.golden\", %p, 65537, 0) = %s", pg, res(r));
	/* a path of PATH_MAX characters and more: PATH_MAX - 1 of them, then ... */
	static char longp[4200];
	memset(longp, 'a', sizeof longp - 1);
	r = syscall(SYS_chdir, longp);
	EXPECT("chdir(\"%.4095s\"...) = %s", longp, res(r));
	return 0;
}
