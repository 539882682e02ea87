#include "common.h"
#include <time.h>
int main(int argc, char **argv) {
	open_out(argc, argv);
	struct timespec ts = {0, 1000};
	syscall(SYS_nanosleep, &ts, NULL);
	EXPECT("nanosleep({tv_sec=0, tv_nsec=1000}, NULL) = 0");
	syscall(SYS_clock_nanosleep, G | CLOCK_MONOTONIC, G | 0, &ts, NULL);
	EXPECT("clock_nanosleep(CLOCK_MONOTONIC, 0, {tv_sec=0, tv_nsec=1000}, NULL) = 0");
	struct timespec r;
	syscall(SYS_clock_getres, G | CLOCK_REALTIME, &r);
	EXPECT("clock_getres(CLOCK_REALTIME, {tv_sec=%ld, tv_nsec=%ld}) = 0", (long)r.tv_sec, r.tv_nsec);
	syscall(SYS_clock_gettime, 99, &r);
	EXPECT("clock_gettime(0x63 /* CLOCK_??? */, %p) = -1 EINVAL (Invalid argument)", &r);
	return 0;
}
