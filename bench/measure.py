#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""measure.py [--iface IF] [--stdout FILE] [--timeout S] -- CMD...

Run CMD once and print one line of JSON about it: wall time (from fork to
reaping), the child's own user and system CPU seconds and peak RSS (wait4's
rusage, so this wrapper's start-up is not counted), its peak anonymous memory
(RssAnon in /proc/PID/status, the largest of CMD's processes, sampled every
5 ms: file pages such as a mapped capture are not in it), the exit status, and, with
--iface, the packets the interface sent and received meanwhile (its
/sys/class/net counters, the ones `ip -s link` shows). Run it inside the
namespace that owns the interface (ip netns exec NS python3 measure.py ...), so
that entering the namespace is not timed either. CMD's stdout goes to --stdout
(default /dev/null), its stderr is kept. --timeout kills CMD after S seconds.
"""
import json
import os
import signal
import sys
import threading
import time

SAMPLE_S = 0.005


def descendants(pid):
    """pid and every process below it (through /proc/PID/task/*/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for t in os.listdir("/proc/%d/task" % p):
                with open("/proc/%d/task/%s/children" % (p, t)) as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return out


def rss_anon_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


class AnonSampler(threading.Thread):
    """The largest RssAnon any process of the tree showed, every SAMPLE_S s."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak_kb, self.stop = pid, 0, threading.Event()

    def run(self):
        while not self.stop.is_set():
            for p in descendants(self.pid):
                self.peak_kb = max(self.peak_kb, rss_anon_kb(p))
            self.stop.wait(SAMPLE_S)


def counters(iface):
    if not iface:
        return 0, 0
    base = "/sys/class/net/%s/statistics/" % iface
    with open(base + "tx_packets") as f:
        tx = int(f.read())
    with open(base + "rx_packets") as f:
        rx = int(f.read())
    return tx, rx


def main(argv):
    iface = None
    out = "/dev/null"
    timeout = 120.0
    while argv and argv[0] != "--":
        opt = argv.pop(0)
        if opt == "--iface":
            iface = argv.pop(0)
        elif opt == "--stdout":
            out = argv.pop(0)
        elif opt == "--timeout":
            timeout = float(argv.pop(0))
        else:
            print("measure.py: unknown option %s" % opt, file=sys.stderr)
            return 2
    if not argv or len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd = argv[1:]
    # Peak RSS: wait4's ru_maxrss counts the forked Python's pages too (about
    # 10 MB), so GNU time, whose own floor is about 2 MB, reports it when present.
    rssfile = None
    if os.path.exists("/usr/bin/time"):
        rssfile = "/tmp/lp-bench-rss.%d" % os.getpid()
        cmd = ["/usr/bin/time", "-f", "%M", "-o", rssfile, "--"] + cmd
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    tx0, rx0 = counters(iface)
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.setpgid(0, 0)
        os.dup2(fd, 1)
        os.close(fd)
        try:
            os.execvp(cmd[0], cmd)
        except OSError as e:
            print("measure.py: %s: %s" % (cmd[0], e), file=sys.stderr)
            os._exit(127)
    os.close(fd)
    timed_out = []

    def on_alarm(sig, frame):
        timed_out.append(1)
        os.killpg(pid, signal.SIGKILL)

    sampler = AnonSampler(pid)
    sampler.start()
    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    # A blocking wait4 (retried after the alarm's handler): no polling to steal
    # a core from what is measured.
    _, status, ru = os.wait4(pid, 0)
    signal.setitimer(signal.ITIMER_REAL, 0)
    t1 = time.perf_counter()
    sampler.stop.set()
    sampler.join()
    tx1, rx1 = counters(iface)
    maxrss = ru.ru_maxrss
    rss_source = "wait4"
    if rssfile:
        try:
            with open(rssfile) as f:
                maxrss = int(f.read().split()[-1])
            rss_source = "gnu-time"
        except (OSError, ValueError, IndexError):
            pass
        try:
            os.unlink(rssfile)
        except OSError:
            pass
    if os.WIFEXITED(status):
        rc = os.WEXITSTATUS(status)
    else:
        rc = 128 + os.WTERMSIG(status)
    print(json.dumps({
        "wall_s": t1 - t0,
        "user_s": ru.ru_utime,
        "sys_s": ru.ru_stime,
        "maxrss_kb": maxrss,
        "peak_anon_kb": sampler.peak_kb,
        "rss_source": rss_source,
        "rc": rc,
        "timed_out": bool(timed_out),
        "tx_packets": tx1 - tx0,
        "rx_packets": rx1 - rx0,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
