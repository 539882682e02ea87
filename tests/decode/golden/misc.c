#include "common.h"
#include <sys/utsname.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/random.h>
#include <sys/ipc.h>
#include <sys/shm.h>
int main(int argc, char **argv) {
	open_out(argc, argv);
	struct utsname u;
	syscall(SYS_uname, &u);
	EXPECT("uname({sysname=\"%s\", nodename=\"%s\", ...}) = 0", u.sysname, u.nodename);
	/* rusage and sysinfo: structs described in the table (fields =) */
	struct rusage ru;
	syscall(SYS_getrusage, RUSAGE_SELF, &ru);
	EXPECT("getrusage(RUSAGE_SELF, {ru_utime={tv_sec=%ld, tv_usec=%ld}, ru_stime={tv_sec=%ld, tv_usec=%ld}, ...}) = 0",
	       (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec, (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec);
	struct sysinfo si;
	syscall(SYS_sysinfo, &si);
	EXPECT("sysinfo({uptime=%ld, loads=[%lu, %lu, %lu], totalram=%lu, freeram=%lu, sharedram=%lu, bufferram=%lu, "
	       "totalswap=%lu, freeswap=%lu, procs=%u, totalhigh=%lu, freehigh=%lu, mem_unit=%u}) = 0",
	       si.uptime, si.loads[0], si.loads[1], si.loads[2], si.totalram, si.freeram, si.sharedram, si.bufferram,
	       si.totalswap, si.freeswap, (unsigned)si.procs, si.totalhigh, si.freehigh, si.mem_unit);
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
