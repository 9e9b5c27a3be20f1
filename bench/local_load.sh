#!/usr/bin/env bash
# Local server under load: N invites created through the API (each stores the invite, its link
# and code, and writes the email to the outbox), then N setup pages read. Reports the wall time
# of each phase and the server's peak resident memory. Loopback only; bounded by N.
#   bench/local_load.sh [N]     (default 500)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-500}
cargo build --release --quiet -p cartlink-local
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
data=$(mktemp -d)
CARTLINK_LISTEN=127.0.0.1:$port CARTLINK_PUBLIC_BASE_URL=http://127.0.0.1:$port \
  CARTLINK_DATA_DIR=$data CARTLINK_DEV_API_KEY=bench-key RUST_LOG=warn \
  target/release/cartlink-local >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
body='{"cart":"sandbox","merchant_email":"merchant@example.com"}'
start=$(date +%s.%N)
for i in $(seq "$n"); do
  curl -fs -X POST "http://127.0.0.1:$port/v1/invites" -H 'Authorization: Bearer bench-key' \
    -H 'Content-Type: application/json' -d "$body" | python3 -c 'import json,sys; print(json.load(sys.stdin)["setup_url"])'
done > "$data/links.txt"
mid=$(date +%s.%N)
while read -r link; do curl -fs -o /dev/null "$link"; done < "$data/links.txt"
end=$(date +%s.%N)
python3 - "$n" "$start" "$mid" "$end" "$(grep VmHWM /proc/$pid/status | awk '{print $2}')" <<'PY'
import sys
n, s, m, e, hwm = int(sys.argv[1]), *map(float, sys.argv[2:5]), int(sys.argv[5])
print(f"{n} invites created: {(m-s)/n*1000:.2f} ms each (sequential, incl. curl and outbox write)")
print(f"{n} setup pages read: {(e-m)/n*1000:.2f} ms each")
print(f"peak resident memory of cartlink-local: {hwm/1024:.1f} MiB")
PY
