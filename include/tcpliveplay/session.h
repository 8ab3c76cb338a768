/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Responder sessions: a fixed-size hash table of sessions keyed by the
 * client's address and port, and what an emulated host answers for packets
 * no session owns (a TCP reset, an ICMP echo reply). Pure: no I/O, no clock.
 */
#ifndef TCPLIVEPLAY_SESSION_H
#define TCPLIVEPLAY_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "tcpliveplay/flow.h"

struct lp_sess_table;

/* Make a table for at most max entries (1 to 1,000,000); the hash is keyed
 * with hash_key so that clients cannot choose colliding ports. 0, -EINVAL or
 * -ENOMEM. Nothing is allocated after this. */
int lp_sess_table_new(size_t max, uint64_t hash_key, struct lp_sess_table **out);

/* Free the table (not the values). Accepts NULL. */
void lp_sess_table_free(struct lp_sess_table *t);

/* The value stored for the client endpoint key (family, address, port), or NULL. */
void *lp_sess_table_get(const struct lp_sess_table *t, const struct lp_endpoint *key);

/* Store val (not NULL) for key. 0, -EEXIST when key is present, -ENOSPC when
 * the table holds max entries, -EINVAL. */
int lp_sess_table_add(struct lp_sess_table *t, const struct lp_endpoint *key, void *val);

/* Remove key. 0 or -ENOENT. */
int lp_sess_table_del(struct lp_sess_table *t, const struct lp_endpoint *key);

size_t lp_sess_table_count(const struct lp_sess_table *t);

/* Iterate: start with *pos = 0; returns the next value, or NULL at the end.
 * Deleting the entry just returned is allowed during the walk. */
void *lp_sess_table_next(const struct lp_sess_table *t, size_t *pos);

/* The reset a host sends for TCP segment pkt (a whole IP packet) that no
 * connection owns (RFC 9293 3.10.7.1): none for a reset; for a segment with
 * ACK, RST with seq = its ack; otherwise RST+ACK acknowledging its sequence
 * space. Written into out: its length, 0 when no reset is due, -EINVAL when
 * pkt is not a valid TCP segment, -ENOBUFS when cap is too small. */
int lp_host_rst(const uint8_t *pkt, size_t len, uint8_t *out, size_t cap);

/* The ICMP (IPv4) or ICMPv6 echo reply to pkt, an echo request: its length,
 * 0 when pkt is no echo request (or is malformed, or its checksum is wrong),
 * -ENOBUFS when cap is too small. */
int lp_host_echo_reply(const uint8_t *pkt, size_t len, uint8_t *out, size_t cap);

#endif
