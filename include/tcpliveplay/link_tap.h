/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Link over a TAP device (/dev/net/tun, IFF_TAP | IFF_NO_PI): the local kernel
 * is the only other host on this wire. Frames it sends through the device are
 * read from the descriptor, up to a batch per dispatch; ours are written to
 * it, one frame per write (the driver takes no more at once). No kernel
 * filter (link.c keeps the connection's packets) and no RST guard: the kernel
 * is the peer, not the owner of our address. Used through tcpliveplay/link.h.
 */
#ifndef TCPLIVEPLAY_LINK_TAP_H
#define TCPLIVEPLAY_LINK_TAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpliveplay/link.h"

/* Attach to TAP device name when it exists (a persistent TAP: its owner user
 * or group needs no capability), else create it (CAP_NET_ADMIN; it is not
 * persistent, so it goes when the descriptor closes, on any exit). *fd is
 * non-blocking and close-on-exec; *created says which. 0, or a negative
 * errno with a message in err naming the fix. */
int lp_tap_open(const char *name, int *fd, bool *created, char *err, size_t errlen);

/* The link over fd, a TAP device's descriptor (or any descriptor that reads
 * and writes one Ethernet frame per call, such as a datagram socket); it
 * takes fd, also on failure. name (NULL: none) is the device, whose counters
 * give lp_link_drops(). */
int lp_link_tap_new(int fd, const char *name, const struct lp_link_cfg *cfg, struct lp_link **out, char *err,
		    size_t errlen);

/* The MAC we use on a TAP whose host side has host_mac: locally
 * administered, unicast, not the host's. */
void lp_link_tap_mac(const uint8_t host_mac[6], uint8_t mac[6]);

#endif
