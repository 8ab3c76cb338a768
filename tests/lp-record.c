/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lp-record IFACE FILE [FILTER]: the lab's packet recorder. tcpdump drops
 * privileges to its own user, which does not exist inside an unprivileged
 * user namespace; this records with libpcap and no such step, in immediate
 * mode, every packet written out at once, until SIGINT or SIGTERM (then
 * what the ring still holds).
 */
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static volatile sig_atomic_t done;
static pcap_t *p;

static void on_signal(int sig)
{
	(void)sig;
	done = 1;
	/* Wakes a blocked pcap_dispatch (libpcap >= 1.10 on Linux). */
	pcap_breakloop(p);
}

int main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE] = "";
	struct bpf_program prog;
	struct sigaction sa;
	pcap_dumper_t *dump;
	int rc = 1;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: lp-record IFACE FILE [FILTER]\n");
		return 2;
	}
	p = pcap_create(argv[1], err);
	if (!p) {
		fprintf(stderr, "lp-record: %s\n", err);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	pcap_set_snaplen(p, 262144);
	pcap_set_immediate_mode(p, 1);
	pcap_set_timeout(p, 100);
	/* A large ring: bulk transfers at veth speed (make bench) outrun 2 MB. */
	pcap_set_buffer_size(p, 64 << 20);
	if (pcap_activate(p) < 0) {
		fprintf(stderr, "lp-record: %s: %s\n", argv[1], pcap_geterr(p));
		goto out;
	}
	if (argc == 4) {
		if (pcap_compile(p, &prog, argv[3], 1, PCAP_NETMASK_UNKNOWN) < 0 || pcap_setfilter(p, &prog) < 0) {
			fprintf(stderr, "lp-record: filter: %s\n", pcap_geterr(p));
			goto out;
		}
		pcap_freecode(&prog);
	}
	/* The file appears only once the capture runs: callers wait for it. */
	dump = pcap_dump_open(p, argv[2]);
	if (!dump) {
		fprintf(stderr, "lp-record: %s\n", pcap_geterr(p));
		goto out;
	}
	pcap_dump_flush(dump);
	while (!done) {
		if (pcap_dispatch(p, -1, pcap_dump, (u_char *)dump) < 0)
			break;
		pcap_dump_flush(dump);
	}
	/* What the ring still holds was captured before the signal: keep it. */
	if (pcap_setnonblock(p, 1, err) == 0)
		while (pcap_dispatch(p, -1, pcap_dump, (u_char *)dump) > 0)
			;
	pcap_dump_close(dump);
	rc = 0;
out:
	pcap_close(p);
	return rc;
}
