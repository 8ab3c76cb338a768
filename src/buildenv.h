/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the program was built for and runs under, for the few places that
 * must know: LP_ASAN (an AddressSanitizer build) and RUNNING_ON_VALGRIND
 * (valgrind's client request; 0 where its header is missing).
 */
#ifndef TCPLIVEPLAY_BUILDENV_H
#define TCPLIVEPLAY_BUILDENV_H

#if defined(__SANITIZE_ADDRESS__)
#define LP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LP_ASAN 1
#endif
#endif
#ifndef LP_ASAN
#define LP_ASAN 0
#endif

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#endif
