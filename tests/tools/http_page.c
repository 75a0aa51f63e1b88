/* http_page.c — a plain web server for tests: answers every request, websocket upgrades included, with one page or file. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char page[1 << 16] = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 46\r\n"
			    "Connection: close\r\n\r\n<!doctype html><html><body>hello</body></html>";
static size_t page_len;

/* The answer becomes FILE (at most 60 KiB) with Content-Type TYPE. Returns 0 or -1. */
static int load(const char *file, const char *type)
{
	char body[60 << 10];
	FILE *f = fopen(file, "rb");
	if (!f)
		return -1;
	size_t n = fread(body, 1, sizeof(body), f);
	fclose(f);
	int h = snprintf(page, sizeof(page), "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
					     "Connection: close\r\n\r\n", type, n);
	if (h < 0 || (size_t)h + n > sizeof(page))
		return -1;
	memcpy(page + h, body, n);
	page_len = (size_t)h + n;
	return 0;
}

/* Reads the request head (up to the blank line, or 8 KiB), then answers and closes. */
static void serve(int fd)
{
	char buf[8192];
	size_t n = 0;
	while (n < sizeof(buf) - 1) {
		ssize_t r = read(fd, buf + n, sizeof(buf) - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		buf[n] = '\0';
		if (strstr(buf, "\r\n\r\n"))
			break;
	}
	if (write(fd, page, page_len) < 0)
		perror("http_page: write");
	close(fd);
}

/* usage: http_page [PORT [FILE TYPE]]   (port 0 or none: any free port); without FILE, an HTML page;
 * prints "ready port=P"; one request at a time. */
int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons((uint16_t)(argc > 1 ? atoi(argv[1]) : 0)) };
	socklen_t len = sizeof(a);
	int one = 1, lfd = socket(AF_INET, SOCK_STREAM, 0);
	signal(SIGPIPE, SIG_IGN);
	page_len = strlen(page);
	if (argc > 3 && load(argv[2], argv[3]) < 0) {
		perror("http_page: FILE");
		return 1;
	}
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 64) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &len) < 0) {
		perror("http_page");
		return 1;
	}
	printf("ready port=%d\n", ntohs(a.sin_port));
	fflush(stdout);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		if (fd >= 0)
			serve(fd);
	}
}
