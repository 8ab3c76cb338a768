/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buildenv.h"
#include "tcpliveplay/util.h"

int lp_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/* Close every descriptor but the n (sorted, distinct) in keep: close_range()
 * between them, else one by one (a kernel before 5.9, a seccomp filter
 * refusing it). */
static void close_all_but(const int *keep, size_t n)
{
	unsigned from = 0;
	bool ok = true;
	long max;

	for (size_t i = 0; i < n && ok; i++) {
		if ((unsigned)keep[i] > from)
			ok = close_range(from, (unsigned)keep[i] - 1, 0) == 0;
		from = (unsigned)keep[i] + 1;
	}
	if (ok && close_range(from, ~0u, 0) == 0)
		return;
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 1048576)
		max = 1048576;
	for (int fd = 0; fd < (int)max; fd++) {
		bool kept = false;

		for (size_t i = 0; i < n; i++)
			kept = kept || fd == keep[i];
		if (!kept)
			close(fd);
	}
}

/* LeakSanitizer stops the process with ptrace at exit to scan it; a process
 * that forked the helper was seen to hang there for good, so sanitizer builds
 * close in place. */
#define CLOSE_IN_PLACE LP_ASAN

#define RELEASE_MAX 4
#define HELPER_STACK (64u << 10)

/* What the helper keeps: the descriptors (sorted) and the pipe's read end,
 * at whose end of file it leaves. */
struct helper {
	int keep[RELEASE_MAX + 1];
	size_t n;
	int rd;
};

static void helper_keep(struct helper *h, const int *fds, size_t n, int rd)
{
	h->n = 0;
	h->rd = rd;
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			h->keep[h->n++] = fds[i];
	h->keep[h->n++] = rd;
	/* Sorted, for close_all_but(): a handful, by insertion. */
	for (size_t i = 1; i < h->n; i++)
		for (size_t j = i; j > 0 && h->keep[j - 1] > h->keep[j]; j--) {
			int t = h->keep[j];

			h->keep[j] = h->keep[j - 1];
			h->keep[j - 1] = t;
		}
}

/* The helper: the caller's streams and sockets are not its to hold; the
 * kept descriptors are, until end of file on the pipe. Signals end it. */
static int helper_main(void *arg)
{
	const struct helper *h = arg;
	sigset_t none;
	char c;

	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	close_all_but(h->keep, h->n);
	/* syscall(), not read(): read() is a cancellation point, whose
	 * wrapper marks the thread it believes it runs in, the caller's. */
	while (syscall(SYS_read, h->rd, &c, 1) < 0 && errno == EINTR)
		;
	return 0;
}

/* The pipe's write end of a helper sharing our memory (CLONE_VM), or -1. */
static int vm_helper_go = -1;

/* A helper in our own address space (clone(CLONE_VM), its own descriptor
 * table): the process's memory is then torn down by whichever of the two
 * leaves last, the helper, so the caller's exit no longer waits for the
 * unmapping of a mapped capture (2 ms for 100 MiB). It runs on a stack of its
 * own, makes system calls only, with every signal blocked until it has set
 * its handlers to the default (the caller's handlers must not run there),
 * and leaves once the caller has exited (end of file on the pipe). It needs
 * close_range(), which never loops over descriptors: in a shared address
 * space errno is the caller's too, so no call of the helper may fail there.
 * Not under valgrind, which runs no such clone. The parent of the helper is
 * init or a subreaper once we leave (exit signal 0: never a zombie we must
 * reap meanwhile). The pipe's write end (p[1]), or -1 where it cannot be
 * made. */
static int vm_helper(const int *fds, size_t n, int p[2])
{
	sigset_t all, old;
	struct helper *h;
	uint8_t *stack;
	pid_t pid;

	if (RUNNING_ON_VALGRIND || close_range(~0u, ~0u, 0) != 0)
		return -1;
	stack = mmap(NULL, HELPER_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED)
		return -1;
	/* Its arguments at the top of its stack; the stack grows down from them. */
	h = (struct helper *)(stack + HELPER_STACK) - 1;
	helper_keep(h, fds, n, p[0]);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = clone(helper_main, (uint8_t *)h - 64, CLONE_VM, h);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		munmap(stack, HELPER_STACK);
		return -1;
	}
	/* The stack stays: the helper may outlive any point at which we could
	 * unmap it, and goes with the address space. */
	close(p[0]);
	vm_helper_go = p[1];
	return p[1];
}

int lp_release_helper(const int *fds, size_t n)
{
	struct helper h;
	int p[2];
	size_t k = 0;
	pid_t pid;

	for (size_t i = 0; i < n && n <= RELEASE_MAX; i++)
		k += fds[i] >= 0;
	if (CLOSE_IN_PLACE || !k || n > RELEASE_MAX || pipe2(p, O_CLOEXEC) < 0)
		return -1;
	if (vm_helper(fds, n, p) >= 0)
		return p[1];
	/* A forked one instead. */
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		/* The middle process leaves at once, so the helper is init's
		 * child, never a zombie of ours. */
		if (fork() == 0) {
			helper_keep(&h, fds, n, p[0]);
			helper_main(&h);
		}
		_exit(0);
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	close(p[0]);
	return p[1];
}

void lp_release_go(int go)
{
	/* A helper in our memory leaves with us: the pipe closes at our exit,
	 * after our memory is let go of. */
	if (go >= 0 && go != vm_helper_go)
		close(go);
}

int lp_grow(void *arr, size_t n, size_t *cap, size_t size, size_t first)
{
	void *p;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : first;
	memcpy(&p, arr, sizeof(p));
	p = realloc(p, ncap * size);
	if (!p)
		return -ENOMEM;
	memcpy(arr, &p, sizeof(p));
	*cap = ncap;
	return 0;
}

void lp_sort_nearly(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *, void *),
		    void *arg)
{
	uint8_t *b = base, tmp[64];
	size_t budget = 8 * n + 64;

	if (size > sizeof(tmp))
		goto fallback;
	for (size_t i = 1; i < n; i++) {
		size_t lo = 0, hi = i;

		if (cmp(b + (i - 1) * size, b + i * size, arg) <= 0)
			continue;
		/* After the last element of the sorted prefix not above it. */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (cmp(b + mid * size, b + i * size, arg) <= 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (i - lo > budget)
			goto fallback;
		budget -= i - lo;
		memcpy(tmp, b + i * size, size);
		memmove(b + (lo + 1) * size, b + lo * size, (i - lo) * size);
		memcpy(b + lo * size, tmp, size);
	}
	return;
fallback:
	qsort_r(base, n, size, cmp, arg);
}

void lp_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

uint64_t lp_clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
