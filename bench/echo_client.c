/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench-echo HOST PORT ROUNDS SIZE: the kernel-TCP echo client of make bench.
 * Sends a line of SIZE bytes, reads its echo back in full, and only then sends
 * the next one, ROUNDS times; then shuts its side down, reads to EOF and
 * prints the seconds all that took (connect to close). Blocking calls, no
 * Nagle delay (TCP_NODELAY): what a careful C client does. Exit 1 when an
 * echo differs from what was sent or the connection fails, 2 for bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SIZE 65536

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, 0);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, char *p, size_t n)
{
	while (n) {
		ssize_t r = recv(fd, p, n, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static char line[MAX_SIZE], got[MAX_SIZE];
	struct sockaddr_in sa = { .sin_family = AF_INET };
	long rounds, size, port;
	int fd, one = 1;
	double t0;

	if (argc != 5 || inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "usage: bench-echo IPV4 PORT ROUNDS SIZE\n");
		return 2;
	}
	port = strtol(argv[2], NULL, 10);
	rounds = strtol(argv[3], NULL, 10);
	size = strtol(argv[4], NULL, 10);
	if (port < 1 || port > 65535 || rounds < 1 || size < 2 || size > MAX_SIZE) {
		fprintf(stderr, "bench-echo: PORT 1-65535, ROUNDS >= 1, SIZE 2-%d\n", MAX_SIZE);
		return 2;
	}
	sa.sin_port = htons((uint16_t)port);
	t0 = now_s();
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("bench-echo: connect");
		return 1;
	}
	for (long i = 0; i < rounds; i++) {
		int n = snprintf(line, (size_t)size, "round trip %ld ", i);

		if (n < 0 || n > size - 1)
			n = (int)size - 1;
		memset(line + n, '.', (size_t)(size - 1 - n));
		line[size - 1] = '\n';
		if (write_all(fd, line, (size_t)size) || read_all(fd, got, (size_t)size) ||
		    memcmp(got, line, (size_t)size)) {
			fprintf(stderr, "bench-echo: round trip %ld failed\n", i);
			return 1;
		}
	}
	shutdown(fd, SHUT_WR);
	while (recv(fd, got, sizeof(got), 0) > 0)
		;
	close(fd);
	/* The loop's own time: bench/run keeps it as "inner". */
	printf("%.6f\n", now_s() - t0);
	return 0;
}
