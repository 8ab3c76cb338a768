/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target over a link's frame handling, through the TAP link: the
 * frames of the input are written to one end of a datagram socket pair (one
 * frame per write, as /dev/net/tun hands them over), the TAP link reads them
 * from the other end in its batches, answers ARP and neighbour solicitations
 * for its address, filters the connection's packets. The first byte picks
 * the family, whether every packet to the address is wanted, and whether
 * neighbour discovery is answered; then frames follow, each as a 2-byte
 * big-endian length and its bytes. Every answer written back must be a whole
 * Ethernet frame from our MAC, every packet handed over must be one of ours.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "link_int.h"
#include "tcpliveplay/link_tap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t our_mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };

static void require(int ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_link: contract broken: %s\n", what);
	abort();
}

struct seen {
	int family;
	uint8_t addr[16];
	unsigned rx, other;
};

static void on_rx(void *ctx, const uint8_t *ip, size_t len)
{
	struct seen *s = ctx;

	/* The connection's: TCP to our address and ports. */
	require(len >= (s->family == AF_INET ? 24u : 44u), "a short packet handed over");
	require((ip[0] >> 4) == (s->family == AF_INET ? 4 : 6), "a packet of the other family");
	require(!memcmp(s->family == AF_INET ? ip + 16 : ip + 24, s->addr, s->family == AF_INET ? 4 : 16),
		"a packet to another address");
	s->rx++;
}

static void on_other(void *ctx, const uint8_t *ip, size_t len)
{
	struct seen *s = ctx;

	require(len >= 1 && (ip[0] >> 4) == (s->family == AF_INET ? 4 : 6), "another family's packet");
	s->other++;
}

/* What the link wrote back: whole frames from our MAC. */
static void drain(int fd)
{
	uint8_t buf[2048];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		require(n >= 14 + 28, "an answer shorter than an ARP reply");
		require(!memcmp(buf + 6, our_mac, 6), "an answer from another MAC");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lp_link_cfg cfg;
	struct lp_link *link = NULL;
	struct seen seen;
	char err[256];
	size_t off = 1;
	int sv[2];

	if (size < 1 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return 0;
	memset(&cfg, 0, sizeof(cfg));
	memset(&seen, 0, sizeof(seen));
	seen.family = cfg.local.family = data[0] & 1 ? AF_INET6 : AF_INET;
	inet_pton(cfg.local.family, data[0] & 1 ? "2001:db8::2" : "198.18.0.2", cfg.local.addr);
	memcpy(seen.addr, cfg.local.addr, 16);
	cfg.local.port = 50000;
	cfg.local_port_last = 50000 + (data[0] >> 4);
	cfg.all_to_local = data[0] & 2;
	cfg.answer_neigh = data[0] & 4;
	cfg.rx_headers_only = data[0] & 8;
	memcpy(cfg.local_mac, our_mac, 6);
	if (lp_link_tap_new(sv[0], NULL, &cfg, &link, err, sizeof(err))) {
		close(sv[1]);
		return 0;
	}
	lp_link_set_other(link, on_other, &seen);
	while (off + 2 <= size) {
		size_t len = (size_t)data[off] << 8 | data[off + 1];

		if (len > size - off - 2)
			len = size - off - 2;
		if (len && send(sv[1], data + off + 2, len, MSG_DONTWAIT) < 0 && errno == EAGAIN) {
			/* The socket is full: let the link read, then again. */
			require(lp_link_dispatch(link, on_rx, &seen) >= 0, "dispatch failed");
			drain(sv[1]);
			continue;
		}
		off += 2 + len;
	}
	while (lp_link_dispatch(link, on_rx, &seen) > 0)
		drain(sv[1]);
	drain(sv[1]);
	/* The same frames as a kind hands them on with flags: cut after their
	 * headers, their checksums vouched for, or both. */
	link->rx = on_rx;
	link->rx_ctx = &seen;
	for (off = 1; off + 2 <= size;) {
		size_t len = (size_t)data[off] << 8 | data[off + 1];

		if (len > size - off - 2)
			len = size - off - 2;
		lp_link_input(link, data + off + 2, len, len + data[off],
			      data[off + 1] & (LP_RX_HEADERS | LP_RX_CSUM_OK));
		drain(sv[1]);
		off += 2 + len;
	}
	link->rx = NULL;
	if (!cfg.all_to_local)
		require(seen.other == 0, "other packets without all_to_local");
	lp_link_close(link);
	close(sv[1]);
	return 0;
}
