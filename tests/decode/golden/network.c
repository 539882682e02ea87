#include "common.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
int main(int argc, char **argv) {
	open_out(argc, argv);
	long s = syscall(SYS_socket, AF_INET /* strace 6.1 compares the whole long */, G | (SOCK_STREAM | SOCK_CLOEXEC), IPPROTO_TCP /* strace 6.1 prints this one as a long */);
	EXPECT("socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP) = %ld", s);
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(1)};
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	syscall(SYS_connect, G | s, &in, G | sizeof in);
	EXPECT("connect(%ld, {sa_family=AF_INET, sin_port=htons(1), sin_addr=inet_addr(\"127.0.0.1\")}, 16) = -1 ECONNREFUSED (Connection refused)", s);
	long u = syscall(SYS_socket, AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	EXPECT("socket(AF_UNIX, SOCK_DGRAM|SOCK_NONBLOCK, 0) = %ld", u);
	struct sockaddr_un un = {.sun_family = AF_UNIX, .sun_path = "/nonexistent/sock"};
	syscall(SYS_connect, u, &un, sizeof un);
	EXPECT("connect(%ld, {sa_family=AF_UNIX, sun_path=\"/nonexistent/sock\"}, 110) = -1 ENOENT (No such file or directory)", u);
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons(9), .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	long d = syscall(SYS_socket, AF_INET6, SOCK_DGRAM, 0);
	syscall(SYS_sendto, d, "ping", 4UL, G | MSG_DONTWAIT, &in6, sizeof in6);
	EXPECT("sendto(%ld, \"ping\", 4, MSG_DONTWAIT, {sa_family=AF_INET6, sin6_port=htons(9), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, \"::1\", &sin6_addr), sin6_scope_id=0}, 28) = 4", d);
	syscall(SYS_shutdown, s, G | SHUT_RDWR);
	EXPECT("shutdown(%ld, SHUT_RDWR) = -1 ENOTCONN (Transport endpoint is not connected)", s);
	return 0;
}
