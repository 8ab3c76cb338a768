/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>

#include "tcpliveplay/pcapw.h"

struct lp_pcapw {
	pcap_t *dead;
	pcap_dumper_t *dump;
	uint8_t seg[65535];     /* a wire segment of a super-segment */
};

int lp_pcapw_open(const char *path, struct lp_pcapw **out, char *err, size_t errlen)
{
	struct lp_pcapw *w;

	*out = NULL;
	w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	w->dead = pcap_open_dead_with_tstamp_precision(DLT_RAW, 65535, PCAP_TSTAMP_PRECISION_NANO);
	if (!w->dead) {
		snprintf(err, errlen, "out of memory");
		free(w);
		return -ENOMEM;
	}
	w->dump = pcap_dump_open(w->dead, path);
	if (!w->dump) {
		snprintf(err, errlen, "%s", pcap_geterr(w->dead));
		pcap_close(w->dead);
		free(w);
		return -EIO;
	}
	*out = w;
	return 0;
}

void lp_pcapw_write(struct lp_pcapw *w, const uint8_t *ip, size_t len, uint64_t wall_ns)
{
	struct pcap_pkthdr h = {
		.ts = { .tv_sec = (time_t)(wall_ns / 1000000000u),
			/* nanoseconds: the file is written with nanosecond precision */
			.tv_usec = (suseconds_t)(wall_ns % 1000000000u) },
		.caplen = (bpf_u_int32)len,
		.len = (bpf_u_int32)len,
	};

	pcap_dump((u_char *)w->dump, &h, ip);
}

void lp_pcapw_write_gso(struct lp_pcapw *w, const uint8_t *ip, size_t len, const struct lp_gso *g,
			uint64_t wall_ns)
{
	int n;

	for (unsigned i = 0; (n = lp_gso_segment(ip, len, g, i, w->seg, sizeof(w->seg))) > 0; i++)
		lp_pcapw_write(w, w->seg, (size_t)n, wall_ns);
}

int lp_pcapw_close(struct lp_pcapw *w)
{
	int rc = 0;

	if (!w)
		return 0;
	if (pcap_dump_flush(w->dump))
		rc = -EIO;
	pcap_dump_close(w->dump);
	pcap_close(w->dead);
	free(w);
	return rc;
}
