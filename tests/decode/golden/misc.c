#include "common.h"
#include <sys/utsname.h>
#include <sys/random.h>
#include <sys/ipc.h>
#include <sys/shm.h>
int main(int argc, char **argv) {
	open_out(argc, argv);
	struct utsname u;
	syscall(SYS_uname, &u);
	EXPECT("uname({sysname=\"%s\", nodename=\"%s\", ...}) = 0", u.sysname, u.nodename);
	unsigned char b[4];
	syscall(SYS_getrandom, b, 4UL, G | GRND_NONBLOCK);
	EXPECT("getrandom(\"\\x%02x\\x%02x\\x%02x\\x%02x\", 4, GRND_NONBLOCK) = 4", b[0], b[1], b[2], b[3]);
	syscall(SYS_getrandom, b, 4UL, 0x100);
	EXPECT("getrandom(%p, 4, 0x100 /* GRND_??? */) = -1 EINVAL (Invalid argument)", b);
	long id = syscall(SYS_shmget, 0L /* IPC_PRIVATE */, 4096UL, G | (IPC_CREAT | 0600));
	EXPECT("shmget(IPC_PRIVATE, 4096, IPC_CREAT|0600) = %ld", id);
	void *at = (void *)syscall(SYS_shmat, G | id, NULL, G | SHM_RDONLY);
	EXPECT("shmat(%ld, NULL, SHM_RDONLY) = %p", id, at);
	syscall(SYS_shmdt, at);
	EXPECT("shmdt(%p) = 0", at);
	syscall(SYS_shmctl, id, G | IPC_RMID, NULL);
	EXPECT("shmctl(%ld, IPC_RMID, NULL) = 0", id);
	return 0;
}
