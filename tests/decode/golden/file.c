#include "common.h"
#include <sys/stat.h>
int main(int argc, char **argv) {
	open_out(argc, argv);
	long fd = syscall(SYS_openat, G | (unsigned)AT_FDCWD, "/etc/hostname", G | (O_RDONLY | O_CLOEXEC));
	EXPECT("openat(AT_FDCWD, \"/etc/hostname\", O_RDONLY|O_CLOEXEC) = %ld", fd);
	long r = syscall(SYS_openat, AT_FDCWD, "/nonexistent/x", O_WRONLY | O_CREAT | O_TRUNC, G | 0644);
	EXPECT("openat(AT_FDCWD, \"/nonexistent/x\", O_WRONLY|O_CREAT|O_TRUNC, 0644) = -1 ENOENT (No such file or directory)");
	r = syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY | 0x40000000);
	EXPECT("openat(AT_FDCWD, \"/etc/hostname\", O_RDONLY|0x40000000) = %ld", r);
	struct stat st;
	syscall(SYS_newfstatat, G | fd, "", &st, G | AT_EMPTY_PATH);
	EXPECT("newfstatat(%ld, \"\", {st_mode=S_IFREG|0%o, st_size=%ld, ...}, AT_EMPTY_PATH) = 0", fd, st.st_mode & 0777, (long)st.st_size);
	syscall(SYS_access, "/etc/hostname", G | (R_OK | W_OK));
	EXPECT("access(\"/etc/hostname\", R_OK|W_OK) = 0");
	syscall(SYS_faccessat2, AT_FDCWD, "/nonexistent", F_OK, 0);
	EXPECT("faccessat2(AT_FDCWD, \"/nonexistent\", F_OK, 0) = -1 ENOENT (No such file or directory)");
	syscall(SYS_mkdirat, AT_FDCWD, "/nonexistent/d", G | 0755);
	EXPECT("mkdirat(AT_FDCWD, \"/nonexistent/d\", 0755) = -1 ENOENT (No such file or directory)");
	syscall(SYS_unlinkat, AT_FDCWD, "/nonexistent", G | 0x8000000);
	EXPECT("unlinkat(AT_FDCWD, \"/nonexistent\", 0x8000000 /* AT_??? */) = -1 EINVAL (Invalid argument)");
	syscall(SYS_unlinkat, AT_FDCWD, "/nonexistent", AT_REMOVEDIR);
	EXPECT("unlinkat(AT_FDCWD, \"/nonexistent\", AT_REMOVEDIR) = -1 ENOENT (No such file or directory)");
	syscall(SYS_chdir, "/");
	EXPECT("chdir(\"/\") = 0");
	char cwd[64];
	r = syscall(SYS_getcwd, cwd, 64);
	EXPECT("getcwd(\"/\", 64) = %ld", r);
	/* a long path, printed in full (no -s truncation) */
	char longp[300];
	memset(longp, 'a', sizeof longp);
	longp[0] = '/';
	longp[sizeof longp - 1] = 0;
	syscall(SYS_openat, AT_FDCWD, longp, O_RDONLY);
	EXPECT("openat(AT_FDCWD, \"%s\", O_RDONLY) = -1 ENAMETOOLONG (File name too long)", longp);
	char lb[64];
	long n = syscall(SYS_readlinkat, G | (unsigned)AT_FDCWD, "/proc/self/cwd", lb, 64UL);
	EXPECT("readlinkat(AT_FDCWD, \"/proc/self/cwd\", \"/\", 64) = %ld", n);
	syscall(SYS_renameat2, AT_FDCWD, "/nonexistent/a", AT_FDCWD, "/nonexistent/b", G | 1);
	EXPECT("renameat2(AT_FDCWD, \"/nonexistent/a\", AT_FDCWD, \"/nonexistent/b\", RENAME_NOREPLACE) = -1 ENOENT (No such file or directory)");
	syscall(SYS_fchmodat, AT_FDCWD, "/nonexistent", G | 04755);
	EXPECT("fchmodat(AT_FDCWD, \"/nonexistent\", 04755) = -1 ENOENT (No such file or directory)");
	syscall(SYS_statx, AT_FDCWD, "/nonexistent", AT_SYMLINK_NOFOLLOW, 0x7ff, lb);
	EXPECT("statx(AT_FDCWD, \"/nonexistent\", AT_STATX_SYNC_AS_STAT|AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, %p) = -1 ENOENT (No such file or directory)", lb);
	/* getxattr/fgetxattr: table entries alone (their decoders restated them) */
	char xv[16];
	syscall(SYS_getxattr, "/nonexistent", "user.x", xv, sizeof xv);
	EXPECT("getxattr(\"/nonexistent\", \"user.x\", %p, 16) = -1 ENOENT (No such file or directory)", xv);
	syscall(SYS_fgetxattr, G | 0xffffffffUL, "user.x", NULL, 0UL);
	EXPECT("fgetxattr(-1, \"user.x\", NULL, 0) = -1 EBADF (Bad file descriptor)");
	syscall(SYS_close, G | fd);
	EXPECT("close(%ld) = 0", fd);
	return 0;
}
