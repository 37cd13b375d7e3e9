#!/usr/bin/env python3
"""The CI examples in examples/ci/ work as written.

    ci_examples.py SERVICES_DIR CHOKEPOINT_BIN

Both YAML files parse and hold what the README promises (PostgreSQL 15 with pg_stat_statements
preloaded and created, a load step, `chokepoint diagnose` with --baseline and --fail-on, JUnit and
markdown published). Then their shell steps run verbatim, in order, against the PostgreSQL that
tests/tools/services.sh started (a fresh database each), with `chokepoint` on PATH: every GitHub
step without "Set up" in its name, GitLab's script and after_script lines (not the build in
.chokepoint-setup). Exit 77 (skipped) with the reason when PyYAML is missing.
"""
import json
import os
import shlex
import subprocess
import sys
import tempfile

try:
    import yaml
except ImportError:
    print("ci_examples: skipped: python3-yaml is not installed (tests/tools/install-deps.sh installs it)")
    sys.exit(77)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "examples", "ci")
failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        failures.append(what)


def services_env(directory):
    env = {}
    with open(os.path.join(directory, "env")) as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                env[k] = shlex.split(v)[0] if v else ""
    return env


def superuser_psql(svc, db, sql):
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", svc["PG_SOCKET"], "-p", svc["PG_PORT"],
                    "-U", "postgres", "-d", db, "-c", sql], check=True, stdout=subprocess.DEVNULL)


def run_shell(script, env, cwd, what):
    print(f"--- {what}\n{script}")
    r = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], env=env, cwd=cwd,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180)
    sys.stdout.write(r.stdout[-3000:])
    sys.stdout.write(r.stderr[-3000:])
    return r.returncode


def run_example(name, steps, job_env, svc, bin_dir):
    """steps: [(label, script)]; the diagnose step may exit 1 (the gate), nothing else may fail."""
    db = "ci_example_" + name.replace("-", "_")
    superuser_psql(svc, "postgres", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    superuser_psql(svc, "postgres", f"CREATE DATABASE {db}")
    work = tempfile.mkdtemp(prefix=f"ci-example-{name}.")
    env = dict(os.environ)
    env.update({k: str(v) for k, v in job_env.items()})
    env.update({
        "DATABASE_URL": f"postgresql://postgres@/{db}?host={svc['PG_SOCKET']}&port={svc['PG_PORT']}",
        "WINDOW": "2",
        "PATH": bin_dir + os.pathsep + env.get("PATH", ""),
        "GITHUB_STEP_SUMMARY": os.path.join(work, "step-summary.md"),
        "CI": "true",
    })
    os.makedirs(os.path.join(work, "perf"))
    try:
        baseline_made = False
        for label, script in steps:
            if "chokepoint diagnose" in script and not baseline_made:
                # The baseline a main-branch run would have left (same target, no load).
                subprocess.run(["chokepoint", "diagnose", "--postgres", env["DATABASE_URL"], "--window", "0",
                                "--format", "json", "--output", "perf/chokepoint-baseline.json"],
                               env=env, cwd=work, check=True, capture_output=True)
                baseline_made = True
            code = run_shell(script, env, work, f"{name}: {label}")
            allowed = (0, 1) if "chokepoint diagnose" in script else (0,)
            check(code in allowed, f"{name}: step '{label}' exits {code} (allowed {allowed})")
        report_path = os.path.join(work, "chokepoint.json")
        check(os.path.exists(report_path), f"{name}: chokepoint.json written")
        if os.path.exists(report_path):
            report = json.load(open(report_path))
            check(all(p["status"] == "ok" for p in report["probes"]),
                  f"{name}: the postgres probe examined its target (pg_stat_statements preloaded and created)")
            check(report["gate"]["baseline"]["file"] == "perf/chokepoint-baseline.json",
                  f"{name}: judged against the baseline")
            check(report["gate"]["fail_on"] == "high", f"{name}: gate fail_on high")
        xml = os.path.join(work, "chokepoint.xml")
        lint = subprocess.run(["xmllint", "--noout", "--schema", os.path.join(ROOT, "tests/junit/junit.xsd"), xml],
                              capture_output=True, text=True)
        check(lint.returncode == 0, f"{name}: chokepoint.xml is valid JUnit ({lint.stderr.strip()[:200]})")
        md = os.path.join(work, "chokepoint.md")
        text = open(md).read() if os.path.exists(md) else ""
        check(text.startswith("## chokepoint: ") and "**Gate:**" in text, f"{name}: chokepoint.md is the summary")
        return work
    finally:
        superuser_psql(svc, "postgres", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")


def github(svc, bin_dir):
    doc = yaml.safe_load(open(os.path.join(EXAMPLES, "github-actions.yml")))
    job = doc["jobs"]["chokepoint"]
    check(job["services"]["postgres"]["image"] == "postgres:15", "github: a postgres:15 service container")
    runs = [s for s in job["steps"] if "run" in s]
    text = "\n".join(s["run"] for s in runs)
    check("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'" in text and "docker restart" in text,
          "github: pg_stat_statements preloaded (ALTER SYSTEM + restart of the service container)")
    check("CREATE EXTENSION IF NOT EXISTS pg_stat_statements" in text, "github: pg_stat_statements created")
    check("--baseline" in text and "--fail-on" in text, "github: diagnose with --baseline and --fail-on")
    check("GITHUB_STEP_SUMMARY" in text, "github: markdown posted to the job summary")
    uses = [s for s in job["steps"] if "uses" in s]
    check(any("chokepoint.xml" in json.dumps(s.get("with", {})) for s in uses), "github: JUnit published")
    steps = [(s["name"], s["run"]) for s in runs if "Set up" not in s.get("name", "")]
    check(len(steps) >= 4, "github: create, load, diagnose and report steps run")
    work = run_example("github", steps, job.get("env", {}), svc, bin_dir)
    summary = os.path.join(work, "step-summary.md")
    check(os.path.exists(summary) and "## chokepoint: " in open(summary).read(),
          "github: the step summary holds the markdown report")


def gitlab(svc, bin_dir):
    doc = yaml.safe_load(open(os.path.join(EXAMPLES, "gitlab-ci.yml")))
    job = doc["chokepoint"]
    service = job["services"][0]
    check(service["name"] == "postgres:15", "gitlab: a postgres:15 service container")
    check("shared_preload_libraries=pg_stat_statements" in service.get("command", []),
          "gitlab: pg_stat_statements preloaded (service command)")
    script = "\n".join(job["script"])
    check("CREATE EXTENSION IF NOT EXISTS pg_stat_statements" in script, "gitlab: pg_stat_statements created")
    check("--baseline" in script and "--fail-on" in script, "gitlab: diagnose with --baseline and --fail-on")
    check(job["artifacts"]["reports"]["junit"] == "chokepoint.xml", "gitlab: JUnit report published")
    check("chokepoint.md" in job["artifacts"]["paths"], "gitlab: markdown summary kept")
    check(job.get("extends") in doc, "gitlab: the set-up job it extends exists")
    # The runner stops at the first line that fails; after_script runs whatever happened.
    steps = [(f"script[{i}]", line) for i, line in enumerate(job["script"])]
    steps += [(f"after_script[{i}]", line) for i, line in enumerate(job["after_script"])]
    run_example("gitlab", steps, job.get("variables", {}), svc, bin_dir)


def main():
    svc = services_env(sys.argv[1])
    bin_dir = tempfile.mkdtemp(prefix="ci-example-bin.")
    os.symlink(os.path.abspath(sys.argv[2]), os.path.join(bin_dir, "chokepoint"))
    github(svc, bin_dir)
    gitlab(svc, bin_dir)
    if failures:
        print(f"\n{len(failures)} check(s) failed:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("\nci_examples: both examples parse and their steps work as written")


if __name__ == "__main__":
    main()
