#!/usr/bin/env bash
# Diffs the diagnosis two chokepoint binaries give on every recorded input: each sample and fixture
# evidence replayed (with its chokepoint.toml when the sample has one) and each trace fixture and
# workload capture read. It compares verdicts, rankings, findings (rule, severity, title, evidence,
# impact, fix), advice, metrics, breakdowns and gate; timing fields and the thresholds a finding lists
# (which grow when a rule declares more of them) are left out. For refactors: "nothing changed".
#   tests/tools/report-diff.sh OLD_CHOKEPOINT NEW_CHOKEPOINT
# NEW_ARGS (e.g. "--threads 1") are added to the new binary's diagnose: the same inputs read another way.
# Exit 0: identical; 1: differences (printed); 2: usage.
set -uo pipefail
[ $# -eq 2 ] || { echo "usage: $0 OLD_CHOKEPOINT NEW_CHOKEPOINT" >&2; exit 2; }
old=$1 new=$2
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

inputs=()
for f in sample-reports/*.evidence.json tests/fixtures/*/*.evidence.json; do
  toml=${f%.evidence.json}.toml
  if [ -f "$toml" ]; then inputs+=("--replay|$f|$toml"); else inputs+=("--replay|$f|"); fi
done
for f in tests/fixtures/traces/*.json tests/fixtures/traces/*.jsonl tests/workloads/node/captures/*.json \
  tests/workloads/node/captures/*.jsonl; do
  [ -f "$f" ] && [ "$(basename "$f")" != expected.json ] && inputs+=("--traces|$f|")
done

normalize() {
  python3 - "$1" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception as e:
    print(json.dumps({"unreadable": str(e)})); sys.exit()
d.pop("tool", None)
run = d.get("run", {})
for k in ("started_at", "duration_ms"):
    run.pop(k, None)
for p in d.get("probes", []):
    p.pop("duration_ms", None)
for f in d.get("findings", []):
    f.pop("thresholds", None)
print(json.dumps(d, indent=1, sort_keys=True))
PY
}

differ=0 n=0
for entry in "${inputs[@]}"; do
  IFS='|' read -r flag file toml <<<"$entry"
  args=(diagnose "$flag" "$file" --format json --fail-on never)
  [ -n "$toml" ] && args+=(--config "$toml")
  "$old" "${args[@]}" >"$work/old.json" 2>"$work/old.err"; old_rc=$?
  # shellcheck disable=SC2086
  "$new" "${args[@]}" ${NEW_ARGS:-} >"$work/new.json" 2>"$work/new.err"; new_rc=$?
  n=$((n + 1))
  normalize "$work/old.json" >"$work/old.norm"
  normalize "$work/new.json" >"$work/new.norm"
  if [ "$old_rc" != "$new_rc" ] || ! cmp -s "$work/old.norm" "$work/new.norm"; then
    differ=$((differ + 1))
    echo "== $flag $file${toml:+ (config $toml)}: exit $old_rc -> $new_rc"
    diff -u "$work/old.norm" "$work/new.norm" | head -40
  fi
done
echo "report-diff: $n inputs, $differ differ"
[ "$differ" -eq 0 ]
