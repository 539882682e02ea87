/* ioctl arguments that are fds, traced with -y: the argument itself
 * (NBD_SET_SOCK, LOOP_SET_FD, LOOP_CHANGE_FD) and the fd a request returns
 * (KVM_CREATE_VM) are named as the tracer saw them at the stop. Each fd is closed right after its call, so a
 * name read later (from /proc, at decode time) would be wrong. */
#include "common.h"
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <linux/nbd.h>
#include <linux/kvm.h>
#define EBADF_TEXT "-1 EBADF (Bad file descriptor)"
int main(int argc, char **argv) {
	open_out(argc, argv);
	int fd = open("/dev/null", O_RDONLY);
	dup2(fd, 42);
	close(fd);
	syscall(SYS_ioctl, -1, NBD_SET_SOCK, G | 42);
	EXPECT("ioctl(-1, NBD_SET_SOCK, 42</dev/null>) = " EBADF_TEXT);
	syscall(SYS_ioctl, -1, LOOP_SET_FD, G | 42);
	EXPECT("ioctl(-1, LOOP_SET_FD, 42</dev/null>) = " EBADF_TEXT);
	/* FICLONE's source fd: strace prints the number */
	syscall(SYS_ioctl, -1, FICLONE, G | 42);
	EXPECT("ioctl(-1, BTRFS_IOC_CLONE or FICLONE, 42) = " EBADF_TEXT);
	close(42);
	/* not open: the number alone */
	syscall(SYS_ioctl, -1, LOOP_CHANGE_FD, 42);
	EXPECT("ioctl(-1, LOOP_CHANGE_FD, 42) = " EBADF_TEXT);
	/* a pointer is no fd */
	int v = 0;
	syscall(SYS_ioctl, -1, FIONBIO, &v);
	EXPECT("ioctl(-1, FIONBIO, [0]) = " EBADF_TEXT);
	int kvm = open("/dev/kvm", O_RDWR);
	if (kvm >= 0) {
		long vm = syscall(SYS_ioctl, kvm, KVM_CREATE_VM, 0);
		if (vm >= 0) {
			EXPECT("ioctl(%d</dev/kvm>, KVM_CREATE_VM, 0) = %ld<anon_inode:kvm-vm>", kvm, vm);
			close(vm);
		}
		close(kvm);
	}
	return 0;
}
