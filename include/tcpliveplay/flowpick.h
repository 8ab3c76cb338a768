/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which captured flow a responder session plays: flows are grouped by the
 * service port they are served on, and the k-th new session on port P gets
 * the k-th flow (capture order) of P's group, wrapping around after the last
 * so that repeated replays keep working. Pure: no I/O, no clock.
 */
#ifndef TCPLIVEPLAY_FLOWPICK_H
#define TCPLIVEPLAY_FLOWPICK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpliveplay/flow.h"

struct lp_flowpick;

/* Group flows[0..n-1] (capture order, n >= 1) by service port: port 0 means
 * each flow's captured server port, another value serves every flow there.
 * The flows must outlive the chooser. 0, -EINVAL (no flows, or a flow whose
 * service port would be 0), -ENOMEM. *out is set only on success. */
int lp_flowpick_new(const struct lp_flow *const *flows, size_t n, uint16_t port,
		    struct lp_flowpick **out);

/* Accepts NULL. */
void lp_flowpick_free(struct lp_flowpick *p);

/* The flow of the next new session on port, advancing that port's turn, or
 * NULL when no flow is served on port. */
const struct lp_flow *lp_flowpick_next(struct lp_flowpick *p, uint16_t port);

/* Is some flow served on port? */
bool lp_flowpick_serves(const struct lp_flowpick *p, uint16_t port);

/* The distinct service ports, ascending: how many, and the i-th (0-based;
 * 0 when i is out of range). */
size_t lp_flowpick_nports(const struct lp_flowpick *p);
uint16_t lp_flowpick_port(const struct lp_flowpick *p, size_t i);

/* How many flows are served on port. */
size_t lp_flowpick_count(const struct lp_flowpick *p, uint16_t port);

#endif
