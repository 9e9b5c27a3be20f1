#!/usr/bin/env bash
# Local server under load: N invites created through the API (each stores the invite, its link
# and code, and writes the email to the outbox), then N setup pages read. Reports the wall time
# of each phase and the server's peak resident memory. Loopback only; bounded by N.
#   bench/local_load.sh [N]     (default 500)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-500}
cargo build --release --quiet -p cartlink-local
. bench/local_server.sh
trap 'kill $pid 2>/dev/null; rm -rf "$data"' EXIT
start_local target/release/cartlink-local "$n"
body='{"cart":"sandbox","merchant_email":"merchant@example.com"}'
# Each line: the server-side round trip as curl measured it, then the answer.
for _ in $(seq "$n"); do
  curl -fs -X POST "http://127.0.0.1:$port/v1/invites" -H 'Authorization: Bearer bench-key' \
    -H 'Content-Type: application/json' -d "$body" -w '\n%{time_total}\n'
done > "$data/create.txt"
grep -o 'http://[^"]*/setup/[^"]*' "$data/create.txt" > "$data/links.txt"
while read -r link; do curl -fs -o /dev/null -w '%{time_total}\n' "$link"; done < "$data/links.txt" > "$data/read.txt"
python3 - "$data" "$(grep VmHWM /proc/$pid/status | awk '{print $2}')" <<'PY'
import statistics, sys
d, hwm = sys.argv[1], int(sys.argv[2])
def times(path):
    return sorted(float(l) * 1000 for l in open(path) if l.strip() and l.strip()[0].isdigit() and "." in l and "{" not in l)
for name, path in [("POST /v1/invites", f"{d}/create.txt"), ("GET /setup/{token}", f"{d}/read.txt")]:
    t = times(path)
    print(f"{name}: n={len(t)} median {statistics.median(t):.2f} ms, p95 {t[int(len(t)*0.95)-1]:.2f} ms")
print(f"peak resident memory of cartlink-local: {hwm/1024:.1f} MiB")
PY
