"""Writes docs/benchmarks.md from one run of bench/bench.sh: the criterion estimates of the
callback bench and the wrk outputs of the local server and the bare axum server."""
import datetime
import glob
import json
import os
import re
import subprocess
import sys

import report_cold

work, out, profile, commit, trips, wrk_secs, quick = (sys.argv[1:] + [""])[:7]


def mean_ms(name):
    path = f"target/criterion/callback_latency/{name}/new/estimates.json"
    with open(path) as f:
        e = json.load(f)["mean"]
    return e["point_estimate"] / 1e6, e["confidence_interval"]["lower_bound"] / 1e6, e["confidence_interval"]["upper_bound"] / 1e6


def wrk(path):
    """One wrk run: its rate, requests and seconds, p50 and p99, non-2xx answers, socket errors."""
    text = open(path).read()
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    done = re.search(r"(\d+) requests in ([\d.]+)(m?s)", text)
    secs = float(done.group(2)) / (1000 if done.group(3) == "ms" else 1)
    p50 = re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1)
    p99 = re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errors = re.search(r"Socket errors:.*", text)
    return rate, int(done.group(1)), secs, p50, p99, int(bad.group(1)) if bad else 0, errors.group(0) if errors else ""


def to_us(latency):
    """wrk's latency (`812.00us`, `1.20ms`, `2.01s`) in microseconds."""
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", latency).groups()
    return float(value) * {"us": 1, "ms": 1e3, "s": 1e6}[unit]


def rounds(name):
    """The rounds of one server's turns: what wrk said in each, in round order."""
    paths = glob.glob(f"{work}/wrk.{name}.*.txt")
    return [wrk(p) for p in sorted(paths, key=lambda p: int(p.rsplit(".", 2)[1]))]


def server(name):
    """One server over all its turns: requests/s over all of them, the median turn's p50, the
    worst turn's p99, the non-2xx answers and socket errors of all, and each turn's rate."""
    runs = rounds(name)
    rate = sum(r[1] for r in runs) / sum(r[2] for r in runs)
    p50 = sorted((r[3] for r in runs), key=to_us)[len(runs) // 2]
    p99 = max((r[4] for r in runs), key=to_us)
    errors = "; ".join(r[6] for r in runs if r[6])
    return rate, p50, p99, sum(r[5] for r in runs), errors, [r[0] for r in runs]


def ratio_spread(mine, theirs):
    """The lowest and highest ratio of two servers' rates over the rounds they ran side by side."""
    ratios = [a / b for a, b in zip(mine, theirs)]
    return min(ratios), max(ratios)


def cpu():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


path_sum, ps_lo, ps_hi = mean_ms("critical_path_sum")
callback, cb_lo, cb_hi = mean_ms("callback")
own, own_lo, own_hi = mean_ms("callback_own_cost")
local = server("local")
bare = server("bare")
sized = server("bare_sized")
spread_bare = ratio_spread(local[5], bare[5])
spread_sized = ratio_spread(local[5], sized[5])
page_bytes = open(f"{work}/page_bytes.txt").read().strip()
nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

doc = f"""## `make bench`

Written by `make bench` (`bench/bench.sh`){" in its quick mode (QUICK=1): too short to read anything from" if quick else ""}
between the markers around this section; the rest of this file is kept as it is. Each table's
baseline was measured in the same run, on the same machine, built with the same cargo profile.

- machine: {cpu()}, {nproc} CPUs (`nproc`), shared with other work while measuring
- date: {now}
- commit: `{commit}`
- cargo profile: `{profile}` (unoptimized unless `release`: release builds are too slow and too
  big for the machines this runs on)

### The callback's critical path

The OAuth callback with fixed latencies injected on every call of its ports (fakes over the
embedded adapters: the token endpoint 20 ms, the vault 15 ms, the store 10 ms), beside the bare
sum of its critical path: its round trips one after another (the attempt; the claim, beside the
invite's read; the code exchange, beside the data key; the commit), slept in a row
(10 + 10 + 20 + 10 ms). Criterion's mean, with its 95% interval.

| | bare critical path | callback | ratio (target ≤ 1.1) |
| --- | --- | --- | --- |
| latency | {path_sum:.1f} ms ({ps_lo:.1f}–{ps_hi:.1f}) | {callback:.1f} ms ({cb_lo:.1f}–{cb_hi:.1f}) | {callback / path_sum:.2f}× |
| sequential round trips (target ≤ 4) | 4 | {trips} | |

The callback's own cost (SQLite, sealing, the checks; no injected latency), measured beside
them: {own:.1f} ms ({own_lo:.1f}–{own_hi:.1f}). Part of that work runs while a call beside it
waits, so it adds at most that much to the latency; each sleep also rounds up to the timer's
millisecond, on both sides.

### The local server

`GET /setup/{{token}}` (the grant page of one invite, {page_bytes} bytes) under
`wrk -t2 -c16 --latency`, {wrk_secs} for each server, beside a bare axum server with one
route of the same shape (`local/examples/bare_axum.rs`), twice: answering a 60-byte page, and
answering a page padded to the grant page's length. On loopback the kernel hands a response to
its reader inside the writer's `writev`, so the bytes alone cost the server; the second
baseline leaves only cartlink's own work in the ratio. The three servers run at once and are
loaded in turns, each round in another order, so that a machine whose speed drifts while
measuring weighs on all three alike. wrk runs on the same machine and takes its share of the
CPUs.

Requests/s are over all of a server's turns; the ratios below them are the lowest and highest
of the rounds. Latency: the median turn's p50, the worst turn's p99.

| | bare axum, 60 bytes | bare axum, {page_bytes} bytes | cartlink-local | ratios (target ≥ 0.5) |
| --- | --- | --- | --- | --- |
| requests/s | {bare[0]:.0f} | {sized[0]:.0f} | {local[0]:.0f} | {local[0] / bare[0]:.2f} / {local[0] / sized[0]:.2f} |
| lowest–highest round | | | | {spread_bare[0]:.2f}–{spread_bare[1]:.2f} / {spread_sized[0]:.2f}–{spread_sized[1]:.2f} |
| latency p50 / p99 | {bare[1]} / {bare[2]} | {sized[1]} / {sized[2]} | {local[1]} / {local[2]} | |
| non-2xx answers | {bare[3]} | {sized[3]} | {local[3]} | |
"""
if local[4] or bare[4] or sized[4]:
    doc += f"\nwrk reported socket errors: cartlink-local `{local[4]}`, bare axum `{bare[4]}`, padded `{sized[4]}`.\n"
if os.path.exists(f"{work}/cold.json"):
    with open(f"{work}/cold.json") as f:
        doc += report_cold.section(json.load(f), profile)
BEGIN = "<!-- make bench: begin (bench/bench.sh writes what follows, up to the end marker) -->"
END = "<!-- make bench: end -->"
old = open(out).read() if os.path.exists(out) else "# Benchmarks\n"
if BEGIN in old and END in old:
    new = old[: old.index(BEGIN)] + BEGIN + "\n" + doc + END + old[old.index(END) + len(END) :]
else:
    new = old.rstrip("\n") + "\n\n" + BEGIN + "\n" + doc + END + "\n"
os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
with open(out, "w") as f:
    f.write(new)
