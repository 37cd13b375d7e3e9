#!/usr/bin/env python3
"""CTest live.prometheus_fleet (#25): `chokepoint diagnose --prometheus` against Debian's real
Prometheus 2.42, scraping real exporters (node, postgres, redis) of the services fixture's servers,
with recorded cAdvisor/kube-state-metrics series backfilled by promtool (tests/tools/prometheus.sh,
scenario values in tests/tools/cadvisor_series.py).

    test_prometheus_fleet.py CHOKEPOINT_BIN      (CHOKEPOINT_TEST_SERVICES=DIR: the services fixture)

Cases, each asserting on the diagnosis:
  fleet     the same window unscoped: PgBouncer's saturated pool, the slow and the failing HTTP
            dependencies (blackbox) are named, the healthy one is not; the routes' rate, errors and
            p95 from span metrics; the fleet's verdict; --replay of the saved results
  pods      a past window (--at): the throttled pod and the pod at its memory limit with OOM kills are
            named, the healthy pods (and the one without limits) have no finding; verdict infrastructure
  match     --match '{namespace="batch"}': only the batch pods are examined, nothing found
  tenant    a Mimir-style path prefix behind a proxy that requires X-Scope-OrgID: the same diagnosis
            with --prometheus-header; without it exit 3 with the engine's 401, the header never printed
  redis     a cold cache under redis-benchmark: ONE diagnose with --redis and --prometheus, both say
            cache.low_hit_ratio, for the same server
  postgres  connections held near max_connections: --postgres and --prometheus both say
            db.pool_saturation, for the same server
  statements a slow query: --postgres and --prometheus (pg_stat_statements through the exporter, known
            by queryid) give ONE db.slow_query with both probes' numbers
  scale     1,000 more pods backfilled into a second Prometheus: the diagnosis takes < 10 s and
            < 100 MB, with as many queries as for 7 pods
"""
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = sys.argv[1]
failures = []


def check(cond, what):
    print(("ok    " if cond else "FAIL  ") + what, flush=True)
    if not cond:
        failures.append(what)


def read_env(d):
    env = {}
    for line in open(os.path.join(d, "env")):
        if "=" in line:
            k, v = line.rstrip("\n").split("=", 1)
            env[k] = " ".join(shlex.split(v)) if v.startswith("'") else v
    return env


def diagnose(*args, config=None):
    argv = [BIN, "diagnose", *args, "--format", "json"]
    if config:
        argv += ["--config", config]
    t0 = time.time()
    p = subprocess.run(["/usr/bin/time", "-f", "%M", *argv], capture_output=True, text=True)
    seconds = time.time() - t0
    rss_kb = int(p.stderr.strip().splitlines()[-1]) if p.stderr.strip() else 0
    report = json.loads(p.stdout) if p.stdout.strip().startswith("{") else {}
    return p.returncode, report, p.stderr, seconds, rss_kb


def fleet_findings(report, rule=None):
    return [f for f in report.get("findings", [])
            if f["source"]["probe"] == "prometheus" and (rule is None or f["rule"] == rule)]


def views(report, rule):
    """{probe: [targets]} of every view of a rule's findings: each finding's own and its seen_by."""
    out = {}
    for f in report.get("findings", []):
        if f["rule"] != rule:
            continue
        for v in [f["source"]] + f.get("seen_by", []):
            targets_of = out.setdefault(v["probe"], [])
            if v["target"] not in targets_of:
                targets_of.append(v["target"])
    return out


def targets(findings):
    return sorted(f["source"]["target"] for f in findings)


def case_pods(env):
    print("== pods: a past window of recorded cAdvisor series")
    rc, r, err, _, _ = diagnose("--prometheus", env["PROM_URL"], "--at", env["PROM_BACKFILL_END"],
                                "--window", "1200", "--match", '{namespace=~"shop|batch"}')
    check(rc == 0, f"exit 0 (got {rc}: {err.strip()[-300:]})")
    check(r.get("verdict", {}).get("category") == "infrastructure",
          f"verdict infrastructure (got {r.get('verdict')})")
    throttled = fleet_findings(r, "infra.cpu_throttling")
    check(targets(throttled) == ["pod shop/checkout-7d9f8-abcde/checkout"],
          f"infra.cpu_throttling names the checkout container only (got {targets(throttled)})")
    if throttled:
        ratio = throttled[0]["evidence"]["throttled_ratio"]
        check(0.52 <= ratio <= 0.58, f"throttled ratio 0.53..0.57 as recorded (got {ratio})")
        check(throttled[0]["evidence"]["limit_cores"] == 0.5, "the 0.5-core quota")
        check(throttled[0]["evidence"]["instance_labels"].get("namespace") == "shop", "its labels")
    memory = fleet_findings(r, "infra.memory_pressure")
    check(targets(memory) == ["pod shop/search-5c6b7-fghij/search"],
          f"infra.memory_pressure names the search container only (got {targets(memory)})")
    if memory:
        ev = memory[0]["evidence"]
        check(ev["oom_kills"] >= 2, f"OOM kills in the window (got {ev['oom_kills']})")
        check(ev["limit_usage"] >= 0.96, f"working set at 97 % of its limit (got {ev['limit_usage']})")
        check(memory[0]["severity"] == "high", "OOM kills make it high")
    fleet = r.get("fleet", {})
    names = {i["name"] for i in fleet.get("instances", [])}
    for pod in ["shop/frontend-6f8b9-klmno", "shop/cart-7c8d9-pqrst", "shop/payments-8d9e0-uvwxy",
                "batch/report-runner-5b4c3-kwxyz", "batch/etl-worker-4a3b2-mnpqr"]:
        check(any(n.startswith("pod " + pod + "/") for n in names), f"{pod} examined")
    named = {"pod shop/checkout-7d9f8-abcde/checkout", "pod shop/search-5c6b7-fghij/search"}
    healthy = [f for f in fleet_findings(r) if f["source"]["target"] not in named]
    check(not healthy, f"no finding on a healthy pod (got {targets(healthy)})")
    worst = fleet.get("instances", [{}])[0]
    check(worst.get("name") == "pod shop/checkout-7d9f8-abcde/checkout" and worst.get("category") == "infrastructure",
          f"the fleet's worst instance is the throttled pod (got {worst.get('name')})")
    check(fleet.get("instances_by_category", {}).get("infrastructure") == 2, "two instances held back by infrastructure")
    return r


def case_fleet(env, tmp):
    print("== fleet: pods, PgBouncer pools and blackbox HTTP probes together")
    evidence = os.path.join(tmp, "fleet.evidence.json")
    rc, r, err, _, _ = diagnose("--prometheus", env["PROM_URL"], "--at", env["PROM_BACKFILL_END"],
                                "--window", "1200", "--save-evidence", evidence)
    check(rc == 0, f"exit 0 (got {rc}: {err.strip()[-300:]})")
    pools = fleet_findings(r, "db.pool_saturation")
    check(targets(pools) == ["pgbouncer pgbouncer-0:9127"] and pools[0]["evidence"].get("pool") == "shop/app",
          f"db.pool_saturation on the shop/app pool of pgbouncer-0 (got {[(f['source']['target'], f['evidence'].get('pool')) for f in pools]})")
    if pools:
        check(pools[0]["evidence"]["maxwait_ms"] >= 1800, f"maxwait about 2 s (got {pools[0]['evidence']['maxwait_ms']})")
    slow = fleet_findings(r, "net.slow_external_call")
    check(targets(slow) == ["http https://payments.example.com/healthz"],
          f"net.slow_external_call on the payments dependency only (got {targets(slow)})")
    errors = fleet_findings(r, "net.external_errors")
    check(targets(errors) == ["http https://inventory.example.com/healthz"],
          f"net.external_errors on the failing inventory dependency only (got {targets(errors)})")
    auth = [f for f in fleet_findings(r) if "auth.example.com" in f["source"]["target"]]
    check(not auth, "the healthy auth dependency has no finding")
    check(r.get("verdict", {}).get("category") == "network",
          f"the fleet's verdict: network, a dependency failing every call (got {r.get('verdict')})")
    routes = {(m["labels"].get("service"), m["labels"].get("route"), m["name"]): m["value"]
              for m in r.get("metrics", []) if m["name"].startswith("fleet.route_")}
    p95 = routes.get(("checkout", "POST /checkout", "fleet.route_p95_ms"), 0)
    check(740 <= p95 <= 820, f"span metrics: POST /checkout p95 about 778 ms (got {p95})")
    errors = routes.get(("checkout", "POST /checkout", "fleet.route_error_ratio"), -1)
    check(0.045 <= errors <= 0.055, f"span metrics: POST /checkout fails 5 % (got {errors})")
    rate = routes.get(("catalog", "GET /products", "fleet.route_calls_per_s"), 0)
    check(110 <= rate <= 130, f"span metrics: GET /products 120 calls/s (got {rate})")
    saved = open(evidence).read() if os.path.exists(evidence) else ""
    check("sum by (namespace, pod, container) (increase(container_cpu_cfs_periods_total" in saved,
          "the evidence keeps each PromQL expression")
    rc2, again, err2, _, _ = diagnose("--replay", evidence)
    check(rc2 == rc and [f["id"] for f in again.get("findings", [])] == [f["id"] for f in r.get("findings", [])]
          and again.get("fleet", {}).get("instances") == r.get("fleet", {}).get("instances"),
          "--replay re-judges the saved results offline: the same findings and fleet")
    kinds = {i["kind"] for i in r.get("fleet", {}).get("instances", [])}
    check({"container", "pgbouncer", "http"} <= kinds, f"every family examined (got {sorted(kinds)})")
    return r


def case_match(env):
    print("== match: --match scopes every expression")
    rc, r, err, _, _ = diagnose("--prometheus", env["PROM_URL"], "--at", env["PROM_BACKFILL_END"],
                                "--window", "1200", "--match", '{namespace="batch"}')
    names = sorted(i["name"] for i in r.get("fleet", {}).get("instances", []))
    check(rc == 0 and all(n.startswith("pod batch/") for n in names) and len(names) == 2,
          f"only the two batch pods examined (got {names})")
    check(not fleet_findings(r), "nothing found in batch")
    verdict = (r.get("verdict") or {}).get("category")
    check(verdict in (None, "none"), f"verdict none (got {verdict})")


def case_tenant(env, pods_report):
    print("== tenant: a Mimir-style prefix and tenant header")
    secret = "Bearer s3cr3t-fleet-t0ken"
    rc, r, err, _, _ = diagnose("--prometheus", env["PROM_PROXY_URL"], "--prometheus-header",
                                "X-Scope-OrgID: " + env["PROM_TENANT"], "--prometheus-header",
                                "Authorization: " + secret, "--at", env["PROM_BACKFILL_END"], "--window", "1200",
                                "--match", '{namespace=~"shop|batch"}')
    check(rc == 0, f"exit 0 through the proxy (got {rc}: {err.strip()[-300:]})")
    check([(f["rule"], f["source"]["target"]) for f in fleet_findings(r)] ==
          [(f["rule"], f["source"]["target"]) for f in fleet_findings(pods_report)],
          "the same findings as straight from Prometheus")
    check("s3cr3t-fleet-t0ken" not in json.dumps(r) + err, "the Authorization value is in no output")
    rc, r, err, _, _ = diagnose("--prometheus", env["PROM_PROXY_URL"], "--prometheus-header",
                                "Authorization: " + secret, "--at", env["PROM_BACKFILL_END"])
    message = " ".join(p.get("message", "") for p in r.get("probes", []))
    check(rc == 3 and "HTTP 401" in message, f"without the tenant: exit 3 with the 401 (got {rc}: {message})")
    check("s3cr3t-fleet-t0ken" not in json.dumps(r) + err, "nor in the failure")


def live_config(tmp, window):
    path = os.path.join(tmp, "live.toml")
    with open(path, "w") as f:
        f.write(f"[probes.prometheus]\nmin_range_s = {window}\n")
    return path


def case_redis(env, tmp):
    print("== redis: a cold cache, seen directly and through redis_exporter")
    port = env["REDIS_BIG_PORT"]
    load = subprocess.Popen(["redis-benchmark", "-h", "127.0.0.1", "-p", port, "-t", "get", "-n", "100000000",
                             "-r", "10000000", "-c", "4", "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(3)
        rc, r, err, _, _ = diagnose("--redis", env["REDIS_BIG_URL"], "--prometheus", env["PROM_URL"],
                                    "--window", "15", config=live_config(tmp, 15))
    finally:
        load.kill()
        load.wait()
    seen = views(r, "cache.low_hit_ratio")
    check("redis" in seen, f"the redis probe says cache.low_hit_ratio (got {sorted(seen)})")
    check(seen.get("prometheus") == [f"redis 127.0.0.1:{port}"],
          f"the prometheus probe says it too, for the same server (got {seen.get('prometheus')})")
    check(r.get("verdict", {}).get("category") == "database", f"verdict database (got {r.get('verdict')})")


def psql_super(env, sql):
    return subprocess.run(["psql", "-X", "-q", "-At", env["PG_SUPER_DSN"], "-c", sql], check=True,
                          capture_output=True, text=True).stdout.strip()


def case_postgres(env, tmp):
    print("== postgres: connections near max_connections, seen directly and through postgres_exporter")
    # Every free slot but two (the direct probe's connection and a spare) is held: whatever else the
    # fixture's servers keep open (PgBouncer's pools, the exporter), usage ends at 96-98 %.
    free = int(psql_super(env, "SELECT current_setting('max_connections')::int - "
                               "current_setting('superuser_reserved_connections')::int - count(*) "
                               "FROM pg_stat_activity WHERE backend_type = 'client backend'"))
    held = []
    dsn = env["PG_APP_DSN"] + ("&" if "?" in env["PG_APP_DSN"] else "?") + "application_name=chokepoint-test-hold"
    try:
        for _ in range(max(0, free - 2)):
            held.append(subprocess.Popen(["psql", "-X", "-q", dsn, "-c", "SELECT pg_sleep(40)"],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(4)
        rc, r, err, _, _ = diagnose("--postgres", env["PG_APP_DSN"], "--prometheus", env["PROM_URL"],
                                    "--window", "10", config=live_config(tmp, 10))
    finally:
        for p in held:
            p.kill()
        for p in held:
            p.wait()
        # A killed client's backend sleeps on until it notices: end them, the slots are needed next.
        psql_super(env, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE application_name = 'chokepoint-test-hold'")
    seen = views(r, "db.pool_saturation")
    check("postgres" in seen, f"the postgres probe says db.pool_saturation (got {sorted(seen)})")
    check(seen.get("prometheus") == [f"postgres 127.0.0.1:{env['PG_PORT']}"],
          f"the prometheus probe says it too, for the same server (got {seen.get('prometheus')})")
    check(r.get("verdict", {}).get("category") == "database", f"verdict database (got {r.get('verdict')})")


def case_statements(env, tmp):
    print("== statements: a slow query, seen in pg_stat_statements directly and through the exporter")
    stop = os.path.join(tmp, "stop-load")
    load = subprocess.Popen(["bash", "-c", f'while [ ! -e {stop} ]; do psql -X -q "$0" -c '
                             '"SELECT count(*) FROM generate_series(1,2000000) g WHERE g % 7 = 3" >/dev/null; done',
                             env["PG_APP_DSN"]])
    try:
        time.sleep(3)
        rc, r, err, _, _ = diagnose("--postgres", env["PG_APP_DSN"], "--prometheus", env["PROM_URL"],
                                    "--window", "15", config=live_config(tmp, 15))
    finally:
        open(stop, "w").close()
        load.wait()
    slow = [f for f in r.get("findings", []) if f["rule"] == "db.slow_query" and "generate_series" in f["title"]]
    seen = {s.get("probe"): s for f in slow for s in f.get("seen_by", [])}
    check(len(slow) == 1 and {"postgres", "prometheus"} <= set(seen),
          f"one db.slow_query seen by both probes (got {len(slow)}, {sorted(seen)})")
    if {"postgres", "prometheus"} <= set(seen):
        direct, fleet = seen["postgres"]["evidence"]["mean_ms"], seen["prometheus"]["evidence"]["mean_ms"]
        check(abs(direct - fleet) <= 0.25 * direct, f"the same mean time per call ({direct} ms vs {fleet} ms)")
        check(seen["prometheus"]["severity"] == seen["postgres"]["severity"], "the same severity")


def case_scale(small):
    print("== scale: 1,000 more pods")
    d = tempfile.mkdtemp(prefix="chokepoint-prom-scale-")
    open(os.path.join(d, "env"), "w").close()
    try:
        subprocess.run([os.path.join(HERE, "prometheus.sh"), "start", d], check=True,
                       env={**os.environ, "PROM_BACKFILL_PODS": "1000"}, stdout=subprocess.DEVNULL)
        env = read_env(d)
        rc, r, err, seconds, rss_kb = diagnose("--prometheus", env["PROM_URL"], "--at", env["PROM_BACKFILL_END"],
                                               "--window", "1200")
        n = len(r.get("fleet", {}).get("instances", []))
        print(f"      {n} instances, {r.get('fleet', {}).get('queries')} requests, {seconds:.2f} s, {rss_kb / 1024:.0f} MiB")
        check(n >= 1008, f"every pod examined (got {n})")
        check(seconds < 10, f"under 10 s (took {seconds:.2f})")
        check(rss_kb < 100 * 1024, f"under 100 MB (peak {rss_kb / 1024:.0f} MiB)")
        check(r["fleet"]["queries"] <= small["fleet"]["queries"],
              f"no more queries than for 7 pods ({r['fleet']['queries']} vs {small['fleet']['queries']})")
        check(targets(fleet_findings(r, "infra.cpu_throttling")) == ["pod shop/checkout-7d9f8-abcde/checkout"],
              "the throttled pod is still the one named among 1,008")
    finally:
        subprocess.run([os.path.join(HERE, "prometheus.sh"), "stop", d], stdout=subprocess.DEVNULL)
        subprocess.run(["rm", "-rf", d])


def main():
    services = os.environ.get("CHOKEPOINT_TEST_SERVICES")
    if not services:
        print("CHOKEPOINT_TEST_SERVICES is not set: run through ctest (the services fixture)")
        return 1
    subprocess.run([os.path.join(HERE, "prometheus.sh"), "start", services], check=True, stdout=subprocess.DEVNULL)
    tmp = tempfile.mkdtemp(prefix="chokepoint-prom-")
    try:
        env = read_env(services)
        pods = case_pods(env)
        fleet = case_fleet(env, tmp)
        case_match(env)
        case_tenant(env, pods)
        case_redis(env, tmp)
        case_postgres(env, tmp)
        case_statements(env, tmp)
        case_scale(fleet)
    finally:
        subprocess.run([os.path.join(HERE, "prometheus.sh"), "stop", services], stdout=subprocess.DEVNULL)
        subprocess.run(["rm", "-rf", tmp])
    print(f"{len(failures)} check(s) failed" if failures else "every check passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
