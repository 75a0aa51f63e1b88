/* tcp_blackhole.c — accepts TCP connections on loopback and never reads or answers (a relay that hangs). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

/* usage: tcp_blackhole [PORT]   (0 or none: any free port); prints "ready port=P"; holds up to 1000 connections. */
int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons((uint16_t)(argc > 1 ? atoi(argv[1]) : 0)) };
	socklen_t len = sizeof(a);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 64) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &len) < 0) {
		perror("tcp_blackhole");
		return 1;
	}
	printf("ready port=%d\n", ntohs(a.sin_port));
	fflush(stdout);
	int held = 0;
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		if (fd >= 0 && ++held > 1000)
			close(fd); /* bounded: beyond this, connections are closed at once */
	}
}
