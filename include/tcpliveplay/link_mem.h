/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * In-memory wire between two endpoints on a virtual clock. Packets are
 * copied in, held until their delivery time, and handed out in time order
 * (ties in sending order). A fault verdict may drop, duplicate, delay,
 * reorder or corrupt a packet on the way.
 */
#ifndef TCPLIVEPLAY_LINK_MEM_H
#define TCPLIVEPLAY_LINK_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "tcpliveplay/fault.h"

struct lp_link_mem;

#define LP_LINK_LATENCY_NS 50000ull

/* latency_ns: one-way delay; 0 means LP_LINK_LATENCY_NS. */
int lp_link_mem_new(uint64_t latency_ns, struct lp_link_mem **out);
void lp_link_mem_free(struct lp_link_mem *l);

/* Queue pkt sent at now_ns towards side to (0 or 1). v may be NULL (no
 * fault). Returns 0, -EINVAL for an empty or oversized packet, -ENOMEM. */
int lp_link_mem_send(struct lp_link_mem *l, unsigned to, const uint8_t *pkt, size_t len,
		     uint64_t now_ns, const struct lp_fault_verdict *v);

/* Delivery time of the next packet, or UINT64_MAX when the wire is empty. */
uint64_t lp_link_mem_next(const struct lp_link_mem *l);

/* Take the next packet due at or before now_ns. Returns 1 and sets *to, *pkt
 * and *len (valid until the next call on l), or 0 when none is due. */
int lp_link_mem_recv(struct lp_link_mem *l, uint64_t now_ns, unsigned *to, const uint8_t **pkt,
		     size_t *len);

size_t lp_link_mem_inflight(const struct lp_link_mem *l);

#endif
