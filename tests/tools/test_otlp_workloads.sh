#!/usr/bin/env bash
# CTest workloads.otlp_receiver: the Node.js workloads (tests/workloads/node) export their spans
# straight to chokepoint's OTLP receiver, once over http/protobuf and once over http/json (two
# receivers in one window), and each receiver's findings are those chokepoint reads from the
# workloads' OTLP JSON Lines files of the same scenarios.
#
#   test_otlp_workloads.sh CHOKEPOINT_BIN      (env: CHOKEPOINT_TEST_SERVICES, NODE_WORKLOADS_DIR)
#
# First the scenarios are captured to files (this also installs the npm packages and loads the
# database); their duration sizes the receivers' window. Exit 77 (skipped, reason printed) when node,
# npm or the npm packages are missing.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BIN=${1:?usage: test_otlp_workloads.sh CHOKEPOINT_BIN}
CAPTURE=$REPO/tests/workloads/node/capture.sh
scenarios=(orm_n_plus_one fanout_serial slow_third_party)

out=$(mktemp -d)
receiver_pid=
cleanup() {
  [ -n "$receiver_pid" ] && kill "$receiver_pid" 2>/dev/null
  rm -rf "$out"
}
trap cleanup EXIT
fail() { echo "test_otlp_workloads: FAIL: $*" >&2; exit 1; }

# 1. The files: the scenarios captured by the workloads' own sink.
start=$(date +%s)
CAPTURE_FORMATS=otlp "$CAPTURE" "$out/files" "${scenarios[@]}"
rc=$?
[ "$rc" = 77 ] && exit 77
[ "$rc" = 0 ] || fail "capture.sh (to files) exited $rc"
took=$(( $(date +%s) - start ))
files=()
for s in "${scenarios[@]}"; do files+=(--traces "$out/files/$s.otlp.jsonl"); done
"$BIN" diagnose "${files[@]}" --format json --output "$out/files.json" || fail "diagnose of the files failed"

# 2. The same scenarios exported to two receivers: protobuf to one, JSON to the other.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pb_port=$(free_port)
json_port=$(free_port)
window=$(( 3 * took + 60 ))  # two runs of the scenarios (now warm), with room
echo "test_otlp_workloads: capture to files took ${took} s; receivers on $pb_port (protobuf) and $json_port (JSON) for ${window} s"
"$BIN" diagnose --otlp-listen "127.0.0.1:$pb_port" --otlp-listen "127.0.0.1:$json_port" --window "$window" \
  --format json --output "$out/receivers.json" &
receiver_pid=$!
for port in "$pb_port" "$json_port"; do
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    kill -0 "$receiver_pid" 2>/dev/null || fail "chokepoint exited before listening"
    sleep 0.2
  done
done
run_start=$(date +%s)
OTLP_ENDPOINT="http://127.0.0.1:$pb_port" OTLP_PROTOCOL=http/protobuf CAPTURE_FORMATS=otlp \
  "$CAPTURE" "$out/pb" "${scenarios[@]}" || fail "capture.sh exporting over http/protobuf failed"
OTLP_ENDPOINT="http://127.0.0.1:$json_port" OTLP_PROTOCOL=http/json CAPTURE_FORMATS=otlp \
  "$CAPTURE" "$out/json" "${scenarios[@]}" || fail "capture.sh exporting over http/json failed"
(( $(date +%s) - run_start < window )) || fail "the exports outlasted the ${window} s window"
wait "$receiver_pid"
rc=$?
receiver_pid=
[ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "diagnose --otlp-listen exited $rc"

# 3. Same findings. Ports of the uninstrumented stubs change between runs, so a finding is compared
# by rule, component and the evidence that names its subject (route, service, statement, source line),
# not by id (whose subject may hold a port).
python3 - "$out/files.json" "$out/receivers.json" "127.0.0.1:$pb_port" "127.0.0.1:$json_port" <<'EOF'
import json, re, sys
files, receivers = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
def key(f):
    ev = f["evidence"]
    subject = [ev.get(k) for k in ("route", "service", "query", "code_filepath", "code_lineno")]
    call = re.sub(r":\d+", ":PORT", str(ev.get("call", ev.get("host", ""))))
    return (f["rule"], re.sub(r":\d+", ":PORT", f["component"]), json.dumps(subject), call)
expected = sorted(key(f) for f in files["findings"])
assert expected, "the files gave no finding"
ok = True
for target, protocol in ((sys.argv[3], "http/protobuf"), (sys.argv[4], "http/json")):
    probe = [p for p in receivers["probes"] if p["target"] == target][0]
    got = sorted(key(f) for f in receivers["findings"] if f["source"]["target"] == target)
    print(f"{protocol}: probe {probe['status']} ({'; '.join(probe['notes'][-2:])}), {len(got)} findings, files: {len(expected)}")
    if probe["status"] != "ok" or got != expected:
        ok = False
        print("  expected:", *expected, sep="\n    ")
        print("  got:", *got, sep="\n    ")
sys.exit(0 if ok else 1)
EOF
[ $? = 0 ] || fail "the receivers' findings differ from the files'"
echo "test_otlp_workloads: same findings over http/protobuf and http/json as from the files"
