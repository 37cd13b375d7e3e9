#!/usr/bin/env python3
"""Recorded Kubernetes, PgBouncer and blackbox series, written as OpenMetrics text for
`promtool tsdb create-blocks-from openmetrics` (tests/tools/prometheus.sh backfills them).

    cadvisor_series.py --end UNIX [--minutes 30] [--step 15] [--pods N] [--seed 25] --out FILE

Samples at END - MINUTES*60, ... every STEP seconds, ..., END (the last sample is at END exactly).
Deterministic: the same arguments give the same file. Counters only grow (no restarts reset them
in this recording: a restarted container keeps its series). The numbers the tests assert on:

cAdvisor (job="kubelet", metrics_path="/metrics/cadvisor", labels namespace, pod, container,
instance "node-N:10250", image, name = a 64-hex container id; one pod-level series per pod with
container="" image="" name="" for container_cpu_usage_seconds_total and
container_memory_working_set_bytes, as the kubelet exports the pod cgroup: filter container!=""):
  CFS: a CPU period is 100 ms (container_spec_cpu_period 100000 us); a busy container runs
  10 periods/s; container_spec_cpu_quota is in us per period (50000 = 0.5 CPU).
  shop/checkout-7d9f8-abcde  container "checkout" on node-3:10250
      quota 50000 (0.5 CPU), shares 512; busy every period (10 periods/s);
      55 % of periods throttled (each step: 0.53..0.57); 0.05 s throttled per throttled period
      (0.275 s/s); usage 0.47..0.50 CPU (pinned at the quota); working set 200 MiB +-2 % of a
      1 GiB limit; PSI cpu waiting 0.35 s/s, memory waiting 0.
    container "envoy" in the same pod: quota 20000 (0.2 CPU), usage 0.03..0.05 CPU, periods
      6 /s, 1 % throttled; working set 40 MiB of 256 MiB.
  shop/search-5c6b7-fghij  container "search" on node-2:10250
      quota 100000 (1 CPU), usage 0.25..0.35 CPU, periods 8 /s, 1 % throttled;
      memory limit 512 MiB (536870912), working set 97 % of it (0.965..0.975), rss 90 % of the
      working set; container_oom_events_total 9 at the start, +1 at minutes 7, 16 and 25 of the
      window (+3, 12 at the end); kube_pod_container_status_restarts_total 4 -> 7 at the same
      moments; kube_pod_container_status_last_terminated_reason{reason="OOMKilled"} 1;
      PSI memory waiting 0.20 s/s, cpu waiting 0.01 s/s.
  healthy pods (throttled 0.2..1.5 % of periods, working set 20..45 % of the limit, restarts 0,
  no OOM events): shop/frontend-6f8b9-klmno (node-1), shop/cart-7c8d9-pqrst (node-4),
  shop/payments-8d9e0-uvwxy (node-1; PSI cpu 0.02 s/s, memory 0), batch/report-runner-5b4c3-kwxyz
  (node-4).
  batch/etl-worker-4a3b2-mnpqr (node-2): no limits: container_spec_memory_limit_bytes 0, no
      container_spec_cpu_quota series, CFS counters 0 (no quota, no CFS periods).
  --pods N (N >= 1; meant for N >= 1000): N more healthy pods shop/api-XXXXX (container "api",
      XXXXX five lower-case letters, unique), spread over node-1..node-20.

kube-state-metrics (job="kube-state-metrics", instance="10.244.1.7:8080", labels namespace, pod,
container, uid): kube_pod_container_status_restarts_total for every container,
kube_pod_container_status_last_terminated_reason only for search (reason="OOMKilled", 1).

PgBouncer, the prometheus-community pgbouncer_exporter's names (job="pgbouncer",
instance="pgbouncer-0:9127", pools labelled database, user):
  shop/app         pool_size 2:  client active 2, client waiting 14, server active 2, idle 0,
                   client maxwait 1.8..2.2 s (2.0 at END)
  shop_pooled/app  pool_size 20: client active 6, waiting 0, server active 6, idle 4, maxwait 0
  pgbouncer/pgbouncer (the admin console): all 0, pool_size 2
  pgbouncer_config_max_client_connections 500, pgbouncer_up 1.

blackbox_exporter http probes (job="blackbox", instance = the probed URL):
  https://auth.example.com/healthz       ok:      success 1, 200, resolve 0.002 connect 0.004
                                                  tls 0.012 processing 0.030 transfer 0.001
  https://payments.example.com/healthz   slow:    success 1, 200, processing 1.15..1.25 s
                                                  (1.2 at END), duration ~1.25 s
  https://inventory.example.com/healthz  failing: success 0, status 503, processing 0.020

Span metrics, Grafana Tempo's metrics-generator names (job="tempo", instance="tempo-0:3200"; server
spans; traces_spanmetrics_calls_total by status_code, traces_spanmetrics_latency histogram in seconds):
  checkout  POST /checkout  40 calls/s, 2 of them errors (5 %); p95 0.778 s (histogram_quantile)
  catalog   GET /products   120 calls/s, no error; p95 0.096 s
"""
import argparse
import hashlib
import random
import string
import sys

MiB = 1024 * 1024


def fmt(v):
    if isinstance(v, int):
        return str(v)
    s = f"{v:.6f}".rstrip("0").rstrip(".")
    return s if s not in ("", "-0") else "0"


def labels(d):
    return "{" + ",".join(f'{k}="{v}"' for k, v in d.items()) + "}"


class Families:
    """Series grouped by family, in the order OpenMetrics wants them (one family's samples together)."""

    def __init__(self):
        self.order = []
        self.fams = {}

    def add(self, name, kind, help_text, lab, values):
        if name not in self.fams:
            self.fams[name] = (kind, help_text, [])
            self.order.append(name)
        self.fams[name][2].append((labels(lab), values))

    def add_sample(self, base, kind, help_text, sample_name, lab, values):
        """A sample of a family whose samples have names of their own (a histogram's _bucket, _count)."""
        key = "histogram:" + base
        if key not in self.fams:
            self.fams[key] = (kind, help_text, [])
            self.order.append(key)
        self.fams[key][2].append((sample_name, labels(lab), values))

    def write(self, out, times):
        ts = [str(t) for t in times]
        for name in self.order:
            kind, help_text, series = self.fams[name]
            if name.startswith("histogram:"):
                base = name[len("histogram:"):]
                out.write(f"# TYPE {base} {kind}\n# HELP {base} {help_text}\n")
                for sample_name, lab, values in series:
                    prefix = sample_name + lab + " "
                    out.write("".join(f"{prefix}{fmt(v)} {t}\n" for v, t in zip(values, ts)))
                continue
            base = name[: -len("_total")] if kind == "counter" else name
            out.write(f"# TYPE {base} {kind}\n# HELP {base} {help_text}\n")
            for lab, values in series:
                prefix = name + lab + " "
                out.write("".join(f"{prefix}{fmt(v)} {t}\n" for v, t in zip(values, ts)))
        out.write("# EOF\n")


def counter(rng, start, rate_fn, n, step, integer=False):
    """Cumulative values: start, then + rate*step per step (rate drawn per step, never negative)."""
    vals, acc = [], start
    for i in range(n):
        if i:
            acc += max(0.0, rate_fn(i)) * step
        vals.append(int(round(acc)) if integer else acc)
    return vals


def container_id(*parts):
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


class Pod:
    def __init__(self, ns, pod, node, containers):
        self.ns, self.pod, self.node, self.containers = ns, pod, node, containers


def container(name, image, quota, limit, usage, periods_per_s, throttle, throttle_s, mem_frac,
              shares=1024, psi_cpu=None, psi_mem=None):
    return dict(name=name, image=image, quota=quota, limit=limit, usage=usage,
                periods_per_s=periods_per_s, throttle=throttle, throttle_s=throttle_s,
                mem_frac=mem_frac, shares=shares, psi_cpu=psi_cpu, psi_mem=psi_mem)


def base_pods(rng):
    healthy = lambda name, image, quota_cpu, limit_mib: container(  # noqa: E731
        name, image, int(quota_cpu * 100000), limit_mib * MiB,
        usage=(quota_cpu * rng.uniform(0.15, 0.35), quota_cpu * 0.45),
        periods_per_s=rng.uniform(5, 9), throttle=(0.002, 0.015), throttle_s=(0.005, 0.02),
        mem_frac=rng.uniform(0.2, 0.45))
    pods = [
        Pod("shop", "checkout-7d9f8-abcde", "node-3:10250", [
            container("checkout", "registry.example/shop/checkout:1.14.2", 50000, 1024 * MiB,
                      usage=(0.47, 0.50), periods_per_s=10, throttle=(0.53, 0.57),
                      throttle_s=(0.05, 0.05), mem_frac=200 / 1024, shares=512,
                      psi_cpu=0.35, psi_mem=0.0),
            container("envoy", "registry.example/envoy:1.28.0", 20000, 256 * MiB,
                      usage=(0.03, 0.05), periods_per_s=6, throttle=(0.01, 0.01),
                      throttle_s=(0.005, 0.01), mem_frac=40 / 256, shares=204),
        ]),
        Pod("shop", "search-5c6b7-fghij", "node-2:10250", [
            container("search", "registry.example/shop/search:3.2.0", 100000, 512 * MiB,
                      usage=(0.25, 0.35), periods_per_s=8, throttle=(0.01, 0.01),
                      throttle_s=(0.005, 0.01), mem_frac=0.97, psi_cpu=0.01, psi_mem=0.20),
        ]),
        Pod("shop", "frontend-6f8b9-klmno", "node-1:10250",
            [healthy("frontend", "registry.example/shop/frontend:2.0.1", 1.0, 1024)]),
        Pod("shop", "cart-7c8d9-pqrst", "node-4:10250",
            [healthy("cart", "registry.example/shop/cart:1.3.7", 0.5, 512)]),
        Pod("shop", "payments-8d9e0-uvwxy", "node-1:10250",
            [healthy("payments", "registry.example/shop/payments:5.0.0", 1.0, 768)]),
        Pod("batch", "report-runner-5b4c3-kwxyz", "node-4:10250",
            [healthy("report-runner", "registry.example/batch/report-runner:0.9.4", 2.0, 2048)]),
        Pod("batch", "etl-worker-4a3b2-mnpqr", "node-2:10250", [
            container("etl-worker", "registry.example/batch/etl-worker:0.4.1", 0, 0,
                      usage=(0.3, 0.6), periods_per_s=0, throttle=(0, 0), throttle_s=(0, 0),
                      mem_frac=0.0, shares=1024)]),
    ]
    pods[4].containers[0]["psi_cpu"] = 0.02
    pods[4].containers[0]["psi_mem"] = 0.0
    pods[6].containers[0]["wss_fixed"] = 300 * MiB  # no limit: the working set is absolute
    return pods


def extra_pods(rng, n):
    seen, pods = set(), []
    while len(pods) < n:
        suffix = "".join(rng.choice(string.ascii_lowercase) for _ in range(5))
        if suffix in seen:
            continue
        seen.add(suffix)
        quota_cpu = rng.choice([0.25, 0.5, 1.0])
        limit_mib = rng.choice([256, 512, 1024])
        pods.append(Pod("shop", f"api-{suffix}", f"node-{1 + len(pods) % 20}:10250", [
            container("api", "registry.example/shop/api:7.1.0", int(quota_cpu * 100000),
                      limit_mib * MiB, usage=(quota_cpu * 0.1, quota_cpu * 0.4),
                      periods_per_s=rng.uniform(4, 9), throttle=(0.002, 0.015),
                      throttle_s=(0.005, 0.02), mem_frac=rng.uniform(0.2, 0.45))]))
    return pods


def cfs_counters(rng, c, uptime, n, step):
    """nr_periods, nr_throttled and throttled seconds of a container's cpu.stat, cumulative."""
    busy = c["periods_per_s"] >= 10  # a container busy in every period runs exactly 10 /s
    periods_inc = [0] + [int(round(c["periods_per_s"] * step * (1 if busy else rng.uniform(0.95, 1.05))))
                         for _ in range(n - 1)]
    thr_inc = [int(round(p * rng.uniform(*c["throttle"]))) for p in periods_inc]
    thr_s_inc = [t * rng.uniform(*c["throttle_s"]) for t in thr_inc]
    ap = int(c["periods_per_s"] * uptime)
    at = int(ap * sum(c["throttle"]) / 2)
    ats = at * sum(c["throttle_s"]) / 2
    periods, throttled, throttled_s = [], [], []
    for i in range(n):
        ap += periods_inc[i]
        at += thr_inc[i]
        ats += thr_s_inc[i]
        periods.append(ap)
        throttled.append(at)
        throttled_s.append(ats)
    return periods, throttled, throttled_s


def emit_cpu(f, rng, c, lab, uptime, n, step):
    """The container's CPU families; returns its usage counter (for the pod-level series)."""
    lo, hi = c["usage"]
    usage = counter(rng, rng.uniform(lo, hi) * uptime, lambda i: rng.uniform(lo, hi), n, step)
    periods, throttled, throttled_s = cfs_counters(rng, c, uptime, n, step)
    f.add("container_cpu_cfs_periods_total", "counter",
          "Number of elapsed enforcement period intervals.", lab, periods)
    f.add("container_cpu_cfs_throttled_periods_total", "counter",
          "Number of throttled period intervals.", lab, throttled)
    f.add("container_cpu_cfs_throttled_seconds_total", "counter",
          "Total time duration the container has been throttled.", lab, throttled_s)
    f.add("container_cpu_usage_seconds_total", "counter",
          "Cumulative cpu time consumed in seconds.", dict(lab, cpu="total"), usage)
    if c["quota"]:  # cAdvisor has no quota series for a container without one
        f.add("container_spec_cpu_quota", "gauge", "CPU quota of the container.", lab, [c["quota"]] * n)
    f.add("container_spec_cpu_period", "gauge", "CPU period of the container.", lab, [100000] * n)
    f.add("container_spec_cpu_shares", "gauge", "CPU share of the container.", lab, [c["shares"]] * n)
    return usage


def emit_memory(f, rng, c, lab, ooms, n):
    """The container's memory families; returns its working set (for the pod-level series)."""
    if c["limit"]:
        base = c["limit"] * c["mem_frac"]
        near_limit = c["mem_frac"] > 0.9  # search: 96.5..97.5 %, the others +-2 %
        wss = [int(base * (rng.uniform(0.965, 0.975) / 0.97 if near_limit else rng.uniform(0.98, 1.02)))
               for _ in range(n)]
        wss = [min(w, c["limit"] - MiB) for w in wss]
    else:
        wss = [int(c["wss_fixed"] * rng.uniform(0.98, 1.02)) for _ in range(n)]
    f.add("container_memory_working_set_bytes", "gauge", "Current working set in bytes.", lab, wss)
    f.add("container_memory_rss", "gauge", "Size of RSS in bytes.", lab, [int(w * 0.9) for w in wss])
    f.add("container_spec_memory_limit_bytes", "gauge", "Memory limit for the container.", lab,
          [c["limit"]] * n)
    f.add("container_oom_events_total", "counter",
          "Count of out of memory events observed for the container", lab, ooms)
    return wss


def emit_psi(f, rng, c, lab, uptime, n, step):
    if c["psi_cpu"] is None:
        return
    for resource, word, rate in (("cpu", "CPU", c["psi_cpu"]), ("memory", "memory", c["psi_mem"])):
        f.add(f"container_pressure_{resource}_waiting_seconds_total", "counter",
              f"Total time duration tasks in the container have waited due to {word} congestion.",
              lab, counter(rng, rate * uptime, lambda i, r=rate: r * rng.uniform(0.95, 1.05), n, step))


def emit_ksm(f, pod, c, uid, restarts, oom_killed, n):
    lab = {"namespace": pod.ns, "pod": pod.pod, "container": c["name"], "uid": uid,
           "job": "kube-state-metrics", "instance": "10.244.1.7:8080"}
    f.add("kube_pod_container_status_restarts_total", "counter",
          "The number of container restarts per container.", lab, restarts)
    if oom_killed:
        f.add("kube_pod_container_status_last_terminated_reason", "gauge",
              "Describes the last reason the container was in terminated state.",
              dict(lab, reason="OOMKilled"), [1] * n)


def emit_pods(f, rng, pods, times, step, oom_steps):
    n = len(times)
    for pod in pods:
        h = container_id("uid", pod.ns, pod.pod)
        uid = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"
        plab = {"namespace": pod.ns, "pod": pod.pod, "container": "", "instance": pod.node,
                "job": "kubelet", "metrics_path": "/metrics/cadvisor", "image": "", "name": ""}
        pod_usage, pod_wss = [0.0] * n, [0] * n
        for c in pod.containers:
            lab = dict(plab, container=c["name"], image=c["image"],
                       name=container_id(pod.ns, pod.pod, c["name"]))
            uptime = rng.uniform(2 * 3600, 48 * 3600)
            oom_killed = pod.pod == "search-5c6b7-fghij"
            kills = [sum(1 for s in oom_steps if s <= i) for i in range(n)] if oom_killed else [0] * n
            usage = emit_cpu(f, rng, c, lab, uptime, n, step)
            wss = emit_memory(f, rng, c, lab, [9 + k if oom_killed else 0 for k in kills], n)
            emit_psi(f, rng, c, lab, uptime, n, step)
            emit_ksm(f, pod, c, uid, [4 + k if oom_killed else 0 for k in kills], oom_killed, n)
            pod_usage = [a + b for a, b in zip(pod_usage, usage)]
            pod_wss = [a + b for a, b in zip(pod_wss, wss)]
        # The pod's own cgroup, as the kubelet exports it (container=""): a little over the sum.
        f.add("container_cpu_usage_seconds_total", "counter",
              "Cumulative cpu time consumed in seconds.", dict(plab, cpu="total"), pod_usage)
        f.add("container_memory_working_set_bytes", "gauge", "Current working set in bytes.",
              plab, [int(w * 1.01) for w in pod_wss])


def emit_pgbouncer(f, rng, n):
    inst = {"instance": "pgbouncer-0:9127", "job": "pgbouncer"}
    pools = [  # database, user, client active, client waiting, server active, server idle, maxwait
        ("shop", "app", 2, 14, 2, 0, True),
        ("shop_pooled", "app", 6, 0, 6, 4, False),
        ("pgbouncer", "pgbouncer", 0, 0, 0, 0, False),
    ]
    for db, user, ca, cw, sa, si, waits in pools:
        lab = {"database": db, "user": user, **inst}
        f.add("pgbouncer_pools_client_active_connections", "gauge",
              "Client connections linked to server connection and able to process queries", lab, [ca] * n)
        f.add("pgbouncer_pools_client_waiting_connections", "gauge",
              "Client connections waiting on a server connection", lab, [cw] * n)
        f.add("pgbouncer_pools_server_active_connections", "gauge",
              "Server connections linked to a client connection", lab, [sa] * n)
        f.add("pgbouncer_pools_server_idle_connections", "gauge",
              "Server connections idle and ready for a client query", lab, [si] * n)
        maxwait = [round(rng.uniform(1.8, 2.2), 3) for _ in range(n - 1)] + [2.0] if waits else [0] * n
        f.add("pgbouncer_pools_client_maxwait_seconds", "gauge",
              "Age of oldest unserved client connection", lab, maxwait)
    for name, size in (("shop", 2), ("shop_pooled", 20), ("pgbouncer", 2)):
        lab = {"name": name, "database": "shop" if name != "pgbouncer" else "pgbouncer",
               "host": "127.0.0.1" if name != "pgbouncer" else "", "port": "5432" if name != "pgbouncer" else "6432",
               "force_user": "", "pool_mode": "transaction" if name != "pgbouncer" else "statement", **inst}
        f.add("pgbouncer_databases_pool_size", "gauge",
              "Maximum number of server connections", lab, [size] * n)
    f.add("pgbouncer_config_max_client_connections", "gauge",
          "Config maximum number of client connections", inst, [500] * n)
    f.add("pgbouncer_up", "gauge", "The pgbouncer scrape succeeded", inst, [1] * n)


def emit_blackbox(f, rng, n):
    probes = [  # url, success, status, resolve, connect, tls, processing, transfer
        ("https://auth.example.com/healthz", 1, 200, 0.002, 0.004, 0.012, (0.028, 0.032), 0.001),
        ("https://payments.example.com/healthz", 1, 200, 0.002, 0.005, 0.014, (1.15, 1.25), 0.001),
        ("https://inventory.example.com/healthz", 0, 503, 0.002, 0.004, 0.012, (0.019, 0.021), 0.001),
    ]
    for url, ok, status, resolve, connect, tls, processing, transfer in probes:
        lab = {"instance": url, "job": "blackbox"}
        proc = [round(rng.uniform(*processing), 4) for _ in range(n - 1)] + [sum(processing) / 2]
        phases = {"resolve": [resolve] * n, "connect": [connect] * n, "tls": [tls] * n,
                  "processing": proc, "transfer": [transfer] * n}
        f.add("probe_success", "gauge", "Displays whether or not the probe was a success", lab, [ok] * n)
        f.add("probe_http_status_code", "gauge", "Response HTTP status code", lab, [status] * n)
        for phase, vals in phases.items():
            f.add("probe_http_duration_seconds", "gauge",
                  "Duration of http request by phase, summed over all redirects",
                  dict(lab, phase=phase), vals)
        f.add("probe_duration_seconds", "gauge", "Returns how long the probe took to complete in seconds",
              lab, [round(sum(p[i] for p in phases.values()) + 0.003, 4) for i in range(n)])


# Span metrics in Grafana Tempo's metrics-generator names (job="tempo", instance="tempo-0:3200"):
# (service, route, calls/s, errors/s, the latency histogram's cumulative share per bucket, seconds).
SPAN_ROUTES = [
    ("checkout", "POST /checkout", 40, 2,
     [(0.05, 0.05), (0.1, 0.2), (0.25, 0.5), (0.5, 0.9), (1, 0.99), (2.5, 1)]),
    ("catalog", "GET /products", 120, 0,
     [(0.05, 0.7), (0.1, 0.97), (0.25, 1), (0.5, 1), (1, 1), (2.5, 1)]),
]


def emit_spanmetrics(f, times):
    t0 = times[0]
    for service, route, rate, errors, buckets in SPAN_ROUTES:
        lab = {"service": service, "span_name": route, "span_kind": "SPAN_KIND_SERVER", "job": "tempo",
               "instance": "tempo-0:3200"}
        ok = [round((rate - errors) * (t - t0)) for t in times]
        bad = [round(errors * (t - t0)) for t in times]
        f.add("traces_spanmetrics_calls_total", "counter", "Calls of a span, from its spans",
              dict(lab, status_code="STATUS_CODE_UNSET"), ok)
        if errors:
            f.add("traces_spanmetrics_calls_total", "counter", "Calls of a span, from its spans",
                  dict(lab, status_code="STATUS_CODE_ERROR"), bad)
        total = [rate * (t - t0) for t in times]
        hist = "traces_spanmetrics_latency"
        for le, share in buckets + [("+Inf", 1)]:
            f.add_sample(hist, "histogram", "Latency of a span, from its spans", hist + "_bucket",
                         dict(lab, le=str(le)), [round(c * share) for c in total])
        f.add_sample(hist, "histogram", "Latency of a span, from its spans", hist + "_count", lab,
                     [round(c) for c in total])
        f.add_sample(hist, "histogram", "Latency of a span, from its spans", hist + "_sum", lab,
                     [round(c * 0.3, 3) for c in total])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--end", type=int, required=True, help="unix seconds of the last sample")
    ap.add_argument("--minutes", type=int, default=30)
    ap.add_argument("--step", type=int, default=15, help="seconds between samples")
    ap.add_argument("--pods", type=int, default=0, help="extra healthy pods shop/api-XXXXX")
    ap.add_argument("--seed", type=int, default=25)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    if a.step <= 0 or a.minutes <= 0 or a.pods < 0:
        sys.exit("cadvisor_series.py: --step and --minutes must be > 0, --pods >= 0")
    start = a.end - a.minutes * 60
    times = list(range(start, a.end + 1, a.step))
    if times[-1] != a.end:
        times.append(a.end)
    n = len(times)
    # The three OOM kills of search: the first sample at or after minutes 7, 16 and 25.
    oom_steps = [next((i for i, t in enumerate(times) if t >= start + m * 60), n - 1)
                 for m in (7 * a.minutes / 30, 16 * a.minutes / 30, 25 * a.minutes / 30)]
    rng = random.Random(a.seed)
    pods = base_pods(rng)
    if a.pods:
        pods += extra_pods(random.Random(a.seed + 1), a.pods)
    f = Families()
    emit_pods(f, rng, pods, times, a.step, oom_steps)
    emit_pgbouncer(f, rng, n)
    emit_blackbox(f, rng, n)
    emit_spanmetrics(f, times)
    with open(a.out, "w", encoding="utf-8") as out:
        f.write(out, times)


if __name__ == "__main__":
    main()
