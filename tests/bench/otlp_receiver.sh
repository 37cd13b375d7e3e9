#!/usr/bin/env bash
# Benchmark (not a test): the OTLP/HTTP receiver's capacity — accepted spans per second, request
# latency, 429s, errors and peak RSS of `chokepoint diagnose --otlp-listen` under a load generator
# (build/tests/bench_otlp_load) that POSTs pre-encoded protobuf exports of 512 spans
# (tests/bench/otlp_bodies.py) over CONNECTIONS keep-alive connections for SECONDS_RUN each run.
#   CONNECTIONS=4 SECONDS_RUN=20 RATE=200000 tests/bench/otlp_receiver.sh [CHOKEPOINT_BIN]
# Runs, in order: the generator alone against its null receiver (its ceiling, plain and gzip);
# chokepoint with the default options paced at RATE spans/s (the target: no 429 there), then as fast
# as it answers (its maximum: the analysis queue fills and 429s pace the exporters), plain and gzip
# each; and an overload run (queue_mb = OVERLOAD_QUEUE_MB, default 1) that must answer 429 with
# Retry-After, drop no connection and say so in its report. Every run checks that each span of an
# accepted export was analysed, and samples the process' RSS and its threads' CPU.
# Target: >= 200,000 spans/s accepted, peak RSS bounded (queue_mb + trace horizon + connections).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$root/build/chokepoint}
load=${LOAD_BIN:-$(dirname "$bin")/tests/bench_otlp_load}
dir=${BENCH_DIR:-/tmp/chokepoint-bench}
spans=${SPANS:-1000000}
mkdir -p "$dir"
bodies="$dir/otlp-exports-${spans}"
[ -s "$bodies.gzip" ] || python3 "$root/tests/bench/otlp_bodies.py" "$bodies" "$spans"
[ -x "$load" ] || { echo "build the bench_otlp_load target first (or set LOAD_BIN)" >&2; exit 2; }

python3 - "$bin" "$load" "$bodies" "$dir" "${CONNECTIONS:-4}" "${SECONDS_RUN:-20}" "${OVERLOAD_QUEUE_MB:-1}" \
  "${RATE:-200000}" <<'PY'
import json, os, socket, subprocess, sys, threading, time
bin, load_bin, bodies, workdir = sys.argv[1:5]
connections, seconds, overload_mb, target = int(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7]), float(sys.argv[8])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def generate(port, mode, secs, rate=0):
    cmd = [load_bin, "send", f"127.0.0.1:{port}", f"{bodies}.{mode}", "--connections", str(connections),
           "--seconds", str(secs), "--rate", str(rate)] + (["--gzip"] if mode == "gzip" else [])
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def thread_cpu(pid, cpu):
    """CPU seconds of each named thread (the receiver's event loop, the analysis), the latest seen."""
    tick = os.sysconf("SC_CLK_TCK")
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            name = open(f"/proc/{pid}/task/{tid}/comm").read().strip()
            fields = open(f"/proc/{pid}/task/{tid}/stat").read().rsplit(")", 1)[1].split()
            cpu[name] = max(cpu.get(name, 0), (int(fields[11]) + int(fields[12])) / tick)
        except OSError:
            pass


def sampler(pid, samples, cpu, stop):
    """Resident memory once a second (MiB), and the threads' CPU until the process ends."""
    last = 0
    while not stop.is_set():
        try:
            if time.monotonic() - last >= 1:
                last = time.monotonic()
                with open(f"/proc/{pid}/status") as f:
                    samples.append(next(int(l.split()[1]) for l in f if l.startswith("VmRSS:")) // 1024)
            thread_cpu(pid, cpu)
        except (OSError, StopIteration):
            return
        stop.wait(0.2)


def receiver_run(mode, rate=0, queue_mb=None):
    port, out = free_port(), os.path.join(workdir, f"otlp-receiver-{mode}.report.json")
    # The window outlasts the load by 5 s: the generator reads its exports (1-2 s) before it starts,
    # and an export still in transit when the window closes is cut off (a connection error).
    cmd = [bin, "diagnose", "--otlp-listen", f"127.0.0.1:{port}", "--window", str(int(seconds) + 5),
           "--format", "json", "--output", out]
    if queue_mb is not None:
        config = os.path.join(workdir, "otlp-receiver-overload.toml")
        with open(config, "w") as f:
            f.write(f"[probes.otlp]\nqueue_mb = {queue_mb}\n")
        cmd += ["--config", config]
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples, cpu, stop = [], {}, threading.Event()
    watcher = threading.Thread(target=sampler, args=(proc.pid, samples, cpu, stop))
    watcher.start()
    load_result = generate(port, mode, seconds, rate)
    load_done = time.monotonic()
    _, status, usage = os.wait4(proc.pid, 0)
    stop.set()
    watcher.join()
    report = json.load(open(out))
    metrics = {m["name"]: m["value"] for m in report["metrics"]}
    notes = [n for p in report.get("probes", []) for n in p.get("notes", [])]
    return {"load": load_result, "metrics": metrics, "notes": notes, "exit": os.waitstatus_to_exitcode(status),
            "peak_rss_mb": usage.ru_maxrss / 1024, "rss_mb_by_s": samples, "thread_cpu_s": cpu,
            "cpu_s": usage.ru_utime + usage.ru_stime,
            "after_window_s": time.monotonic() - started - (int(seconds) + 5), "load_s": load_done - started}


def sink_run(mode):
    port = free_port()
    sink = subprocess.Popen([load_bin, "sink", str(port), "--seconds", "30"])
    try:
        return generate(port, mode, 5)
    finally:
        sink.kill()
        sink.wait()


def rate(load):
    return load["spans_accepted"] / load["elapsed_s"]


def steady(load):  # the second half of the run: after the queue has filled, if it fills
    by_s = load["accepted_by_s"][:int(load["elapsed_s"])]
    half = by_s[len(by_s) // 2:]
    return sum(half) / max(1, len(half))


model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"machine: {os.cpu_count()} CPUs ({model}), load average {os.getloadavg()[0]:.2f} at the start")
print(f"exports: {os.path.basename(bodies)}, {connections} connections, {seconds:g} s per run")
ceiling = {mode: sink_run(mode) for mode in ("plain", "gzip")}
for mode, r in ceiling.items():
    print(f"generator alone ({mode}, null receiver): {rate(r) / 1e6:.2f} M spans/s, "
          f"p99 {r['latency_ms']['p99']:.2f} ms")

def report_run(label, mode, r):
    load, m = r["load"], r["metrics"]
    answers = ", ".join(f"{k}: {v}" for k, v in load["answers"].items())
    analysed = m.get("otlp.spans_received", 0)
    print(f"\n[{label}] accepted {rate(load):,.0f} spans/s ({steady(load):,.0f} in the second half; "
          f"{rate(load) / rate(ceiling[mode]):.1%} of the generator alone), latency p50 "
          f"{load['latency_ms']['p50']:.2f} ms p99 {load['latency_ms']['p99']:.2f} ms max {load['latency_ms']['max']:.0f} ms")
    print(f"  answers {{{answers}}}; 429 without Retry-After: {load['retry_after_missing']}; "
          f"connection errors: {load['connection_errors']}")
    print(f"  spans: {load['spans_accepted']:,} in exports answered 200, {analysed:,.0f} otlp.spans_received, "
          f"{m.get('traces.spans', 0):,.0f} traces.spans; {m.get('otlp.spans_dropped', 0):,.0f} otlp.spans_dropped "
          f"(in 429-answered attempts, sent again after Retry-After: {load['spans_throttled']:,})")
    print(f"  peak RSS {r['peak_rss_mb']:.0f} MiB (per second: {r['rss_mb_by_s']}); exit {r['exit']}; "
          f"{r['after_window_s']:.1f} s after the window to the report")
    cpu = r["thread_cpu_s"]
    busy = ", ".join(f"{name} {cpu.get(name, 0):.1f} s ({cpu.get(name, 0) / load['elapsed_s']:.0%} of a core; "
                     f"{analysed / max(cpu.get(name, 0), 1e-9) / 1e6:.2f} M spans per CPU second)"
                     for name in ("otlp-receiver", "otlp-analysis"))
    print(f"  CPU: {r['cpu_s']:.1f} s in all (the load: {load['elapsed_s']:.1f} s); {busy}")
    throttled = [n for n in r["notes"] if "throttled (429" in n]
    if throttled:
        print(f"  report: {throttled[0][:150]}…")
    good = not load["connection_errors"] and not load["retry_after_missing"] and load["spans_accepted"] == analysed
    return good, bool(throttled)


ok = True
for label, mode, rate_, queue_mb in [(f"{mode}, paced at {target:,.0f} spans/s", mode, target, None) for mode in ("plain", "gzip")] + \
        [(f"{mode}, as fast as answered", mode, 0, None) for mode in ("plain", "gzip")] + \
        [(f"gzip, as fast as answered, queue_mb {overload_mb:g}", "gzip", 0, overload_mb)]:
    r = receiver_run(mode, rate_, queue_mb)
    good, throttled = report_run(label, mode, r)
    ok = ok and good
    if rate_ and r["load"]["answers"].get("429"):
        ok = False
    if queue_mb is not None and (not r["load"]["answers"].get("429") or not throttled):
        ok = False
print(f"\n{'OK' if ok else 'CHECK'}: no connection errors, Retry-After on every 429, every accepted span analysed, "
      f"no 429 at {target:,.0f} spans/s, the overload run throttled and its report says so")
PY
