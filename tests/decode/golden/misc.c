#include "common.h"
#include <sys/utsname.h>
#include <sys/random.h>
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
	return 0;
}
