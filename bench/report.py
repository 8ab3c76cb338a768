#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""report.py RESULTS.jsonl OUT.json CAPDIR ORIGINAL NPROC LOADAVG SECONDS: medians of bench/run's
runs, as a Markdown table on stdout and as JSON in OUT.json.

MB is 2^20 bytes of TCP payload, both directions (what the capture's two
streams hold). Medians are over the runs that succeeded (exit 0); "x kernel"
is the kernel's median wall time over this mode's (higher is better)."""
import json
import os
import statistics
import sys

BULK = "%s MB" % os.environ.get("BENCH_BULK_MB", "100")
BIG = "%s MB" % os.environ.get("BENCH_BIG_MB", "1024")
ECHOES = "{:,}".format(int(os.environ.get("BENCH_ECHOES", "2000")))
FLOWS = int(os.environ.get("BENCH_FLOWS", "200"))
WORKLOADS = [
    ("bulk", BULK + " bulk download (socat -b 65536 at both ends)"),
    ("big", BIG + " bulk download (socat -b 65536 at both ends)"),
    ("up", BULK + " bulk upload (socat -b 65536 at both ends)"),
    ("echo", ECHOES + " echo round trips (C client bench-echo, socat EXEC:cat)"),
    ("http", "1 KB HTTP GET (python3 http.server)"),
    ("many", "{:,} 4 KiB HTTP GETs, one connection each (stock python3 -m http.server, "
             "curl --parallel --parallel-max {})".format(FLOWS, os.environ.get("BENCH_PARALLEL", "20"))),
]
MODES = [
    ("kernel", "kernel TCP (same client)"),
    ("live", "tcpliveplay vs real server"),
    ("responder", "tcpliveplay vs tcpliveplay-responder"),
    ("shards", "tcpliveplay --shard 1/2 and 2/2 at once vs tcpliveplay-responder"),
    ("simulate", "tcpliveplay --simulate"),
    ("list", "tcpliveplay --list (load)"),
    ("original", "original tcpliveplay"),
]
MB = 1048576.0


def good_run(r):
    """A run counts when it exited 0 and its replay (if any) matched; a
    many-flow replay also needs every flow matched, and against the responder
    the responder's exit 0 with every session matched."""
    if r["m"].get("rc") != 0 or r["m"].get("wall_s") is None:
        return False
    rp = r["replay"]
    if rp is None:
        return True
    if rp.get("verdict") != "matched":
        return False
    if r["workload"] == "many":
        if rp.get("matched") != FLOWS or rp.get("flows") != FLOWS:
            return False
        if r["mode"] in ("responder", "shards"):
            rs = rp.get("responder") or {}
            if rs.get("rc") != 0 or not rs.get("summary", "").startswith(
                    "summary: %d sessions: %d matched," % (FLOWS, FLOWS)):
                return False
    return True


def why_failed(r):
    w = "timed out" if r["m"].get("timed_out") else "exit %s" % r["m"].get("rc")
    rp = r["replay"]
    if rp:
        w += ", " + str(rp.get("verdict", "?"))
        if r["workload"] == "many":
            w += " (%s/%s flows matched)" % (rp.get("matched"), rp.get("flows"))
            rs = rp.get("responder")
            if rs:
                w += ", responder exit %s: %s" % (rs.get("rc"), rs.get("summary") or "no summary")
    return w


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def main(argv):
    res_path, out_path, capdir, original, nproc, load_before, secs = argv[:7]
    rows = [json.loads(l) for l in open(res_path) if l.strip()]
    out = {"machine": {"nproc": int(nproc), "kernel": os.uname().release,
                       "loadavg_before": load_before,
                       "loadavg_after": " ".join(open("/proc/loadavg").read().split()[:3])},
           "seconds": int(secs),
           "unit_mb": MB, "original_tcpliveplay": original or None, "workloads": {}}
    lines = []
    lines.append("| workload | mode | ok/runs | wall ms | inner ms | MB/s | pkt/s | wire pkt/s | CPU s/MB "
                 "| peak RSS MB | peak RssAnon MB | x kernel |")
    lines.append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    flows_lines = ["", "| %s parallel GETs: mode | ok/runs | wall ms | flows/s | x kernel |" % "{:,}".format(FLOWS),
                   "|---|---|---:|---:|---:|"]
    for w, wname in WORKLOADS:
        wr = [r for r in rows if r["workload"] == w]
        cap = os.path.join(capdir, w + ".pcap")
        cap_size = os.path.getsize(cap) if os.path.exists(cap) else None
        # Payload moved: both streams, from a --simulate report of the capture
        # (else from a matched replay's: it moved the captured byte counts).
        payload = None
        for r in sorted(wr, key=lambda r: r["mode"] != "simulate"):
            if r["mode"] in ("simulate", "live", "responder") and r.get("replay") and good_run(r):
                payload = r["replay"]["sent"]["bytes"] + r["replay"]["received"]["bytes"]
                break
        mbytes = payload / MB if payload else None
        wout = {"title": wname, "capture_bytes": cap_size, "payload_bytes": payload, "modes": {}}
        kernel_wall = None
        for mode, mname in MODES:
            mr = [r for r in wr if r["mode"] == mode]
            if not mr:
                if mode == "original" and w == "many":
                    continue
                if mode == "original":
                    st = "not installed" if not original else "not run (about 10 s per received packet)"
                    wout["modes"][mode] = {"status": st}
                    lines.append("| %s | %s | %s | | | | | | | | | |" % (w, mname, st))
                continue
            good = [r for r in mr if good_run(r)]
            d = {"runs": len(mr), "ok": len(good), "raw": mr}
            if good:
                wall = med([r["m"]["wall_s"] for r in good])
                cpu = med([r["m"]["user_s"] + r["m"]["sys_s"] for r in good])
                rss = med([r["m"]["maxrss_kb"] for r in good])
                anon = med([r["m"].get("peak_anon_kb") for r in good])
                wire = med([r["m"].get("tx_packets", 0) + r["m"].get("rx_packets", 0) for r in good])
                if mode in ("kernel", "original"):
                    pkts = wire
                elif mode == "list":
                    pkts = None
                else:
                    pkts = med([r["replay"]["sent"]["segments"] + r["replay"]["received"]["segments"]
                                for r in good if r["replay"]])
                if mode == "kernel":
                    kernel_wall = wall
                d.update({
                    "wall_s": wall,
                    "mb_per_s": mbytes / wall if mbytes else None,
                    "packets": pkts,
                    "packets_per_s": pkts / wall if pkts else None,
                    "wire_packets": wire if mode not in ("simulate", "list") else None,
                    "wire_packets_per_s": wire / wall if mode not in ("simulate", "list") else None,
                    "cpu_s": cpu,
                    "cpu_s_per_mb": cpu / mbytes if mbytes else None,
                    "peak_rss_kb": rss,
                    "peak_anon_kb": anon,
                    "rss_source": good[0]["m"].get("rss_source"),
                    "ratio_to_kernel": kernel_wall / wall if kernel_wall else None,
                    "replay_duration_s": med([float(r["replay"]["duration_s"]) for r in good if r["replay"]]),
                    "client_loop_s": med([r.get("inner_s") for r in good]),
                })
                if w == "many":
                    d["flows"] = FLOWS
                    d["flows_per_s"] = FLOWS / wall
                    flows_lines.append("| %s | %d/%d | %.1f | %.0f | %.2f |" % (
                        mname, len(good), len(mr), wall * 1000, FLOWS / wall,
                        d["ratio_to_kernel"] if d["ratio_to_kernel"] else float("nan")))
                inner = d["replay_duration_s"] if mode in ("live", "responder", "shards", "simulate") else d["client_loop_s"]

                def f(v, fmt):
                    return fmt % v if v is not None else "-"
                lines.append("| %s | %s | %d/%d | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                    w, mname, len(good), len(mr), f(wall * 1000, "%.1f"),
                    f(inner * 1000 if inner is not None else None, "%.1f"), f(d["mb_per_s"], "%.1f"),
                    f(d["packets_per_s"], "%.0f"), f(d["wire_packets_per_s"], "%.0f"),
                    f(d["cpu_s_per_mb"], "%.4f"), f(rss / 1024.0, "%.1f"),
                    f(anon / 1024.0 if anon is not None else None, "%.1f"),
                    f(d["ratio_to_kernel"], "%.2f")))
            else:
                why = sorted({why_failed(r) for r in mr})
                d["status"] = "; ".join(why)
                lines.append("| %s | %s | 0/%d | failed: %s | | | | | | | | |" % (w, mname, len(mr), d["status"]))
            wout["modes"][mode] = d
        out["workloads"][w] = wout

    # The issue's targets, judged on these medians.
    def get(w, m, k):
        return out["workloads"].get(w, {}).get("modes", {}).get(m, {}).get(k)
    targets = []

    def target(issue, name, value, ok, shown, runs=None):
        targets.append({"issue": issue, "target": name, "measured": value, "met": ok, "runs": runs})
        lines_t.append("| %d | %s | %s | %s |" % (issue, name, shown, "-" if ok is None else ("yes" if ok else "**no**")))
    lines_t = ["", "| issue | target | measured (median) | met |", "|---|---|---:|---|"]

    def ratio(issue, w, m, what, floor):
        # The median decides; each run's ratio (the kernel's median wall over
        # the run's) shows how far the runs spread around it.
        r = get(w, m, "ratio_to_kernel")
        kw = get(w, "kernel", "wall_s")
        runs = [kw / x["m"]["wall_s"] for x in get(w, m, "raw") or [] if good_run(x)] if kw else []
        shown = "-" if r is None else "%.2f x" % r
        if len(runs) > 1:
            shown += " (runs %.2f-%.2f)" % (min(runs), max(runs))
        target(issue, "%s >= %s x kernel" % (what, floor), r, None if r is None else r >= floor, shown,
               runs or None)

    def below(issue, w, m, key, what, lim, scale, unit):
        v = get(w, m, key)
        target(issue, "%s < %g %s" % (what, lim, unit), v, None if v is None else v * scale < lim,
               "-" if v is None else "%.1f %s" % (v * scale, unit))
    ratio(17, "bulk", "live", BULK + " vs real server, whole process", 0.8)
    ratio(17, "big", "live", BIG + " vs real server, whole process", 0.8)
    ratio(17, "echo", "live", ECHOES + " echoes vs real server (kernel: the C client)", 0.8)
    below(17, "http", "live", "wall_s", "1 KB GET, whole replay", 25, 1000, "ms")
    ratio(17, "bulk", "responder", BULK + " vs tcpliveplay-responder", 1.0)
    ratio(17, "up", "live", BULK + " upload to the real server, whole process", 0.8)
    below(17, "big", "list", "wall_s", "loading " + BIG + " (--list)", 1, 1, "s")
    below(17, "big", "list", "peak_anon_kb", "peak RssAnon loading " + BIG + " (--list)", 64, 1 / 1024.0, "MB")
    below(17, "big", "live", "peak_anon_kb", "peak RssAnon replaying " + BIG, 64, 1 / 1024.0, "MB")
    below(7, "bulk", "simulate", "wall_s", "--simulate of " + BULK, 1, 1, "s")
    below(7, "bulk", "list", "wall_s", "loading " + BULK + " (--list)", 0.3, 1, "s")
    out["targets"] = targets
    with open(out_path, "w") as fp:
        json.dump(out, fp, indent=1)
        fp.write("\n")
    if len(flows_lines) == 3:
        flows_lines = []
    print("\n".join(lines + flows_lines + lines_t))
    print("\nMedians. wall: the whole process (start-up, capture loading, setup, teardown). "
          "inner: the replay alone (the report's duration; --simulate: virtual time), or the echo "
          "client's own loop without its start-up. RssAnon: the largest anonymous memory of the "
          "command's processes, sampled every 5 ms (a mapped capture is file memory, not in it). "
          "MB = 2^20 payload bytes, both "
          "directions. pkt/s: data segments from the replay's --json (kernel: vc's packet "
          "counters); wire pkt/s: vc's counters, ACKs included. x kernel: kernel wall / wall. "
          "many: flows/s = %d / wall; the replays are --flow all (shards: the wall time of both). "
          "%s cores, load average %s before, %s after; %s s. JSON: %s"
          % (FLOWS, nproc, load_before, out["machine"]["loadavg_after"], secs, out_path))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
