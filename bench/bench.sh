#!/usr/bin/env bash
# `make bench`: builds what it measures, measures it beside bare baselines built with the same
# profile in the same run, and writes docs/benchmarks.md (or $BENCH_OUT):
#   (a) the callback's latency with fixed latencies injected on the token endpoint, the vault
#       and the store, beside the bare sum of its critical path (criterion, shared/benches);
#   (b) the local server's `GET /setup/{token}` under wrk at concurrency 16, beside a bare axum
#       server (local/examples/bare_axum.rs), loaded in turns;
#   (c) each Lambda function's cold start against a loopback stand-in for the Runtime API:
#       init and first invoke, instructions to the first `next`, sizes, peak RSS
#       (bench/cold_start.py), beside bare lambda_runtime and lambda_http
#       (local/examples/bare_lambda_*.rs).
# QUICK=1 runs each briefly, only to prove it still runs. PROFILE (default dev: release builds
# are too slow and too big for the machines this runs on) names the cargo profile of both sides.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=${QUICK:-}
profile=${PROFILE:-dev}
out=${BENCH_OUT:-docs/benchmarks.md}
if [ -n "$quick" ]; then
  criterion=(--warm-up-time 0.2 --measurement-time 0.5 --sample-size 10)
  wrk_secs=2 wrk_rounds=1
else
  criterion=(--warm-up-time 2 --measurement-time 10 --sample-size 30)
  wrk_secs=3 wrk_rounds=5
fi
bin_dir=target/$([ "$profile" = dev ] && echo debug || echo "$profile")
work=$(mktemp -d)
pid= pids=()
cleanup() { kill ${pid:-} "${pids[@]}" 2>/dev/null || true; rm -rf "$work" "${data:-}"; }
trap cleanup EXIT

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

echo "== (a) the callback's critical path" >&2
cargo bench --quiet -p shared --bench callback --profile "$profile" -- "${criterion[@]}" | tee "$work/callback.txt" >&2
trips=$(sed -n 's/^CALLBACK_SEQUENTIAL_ROUND_TRIPS=//p' "$work/callback.txt")

echo "== (b) the local server beside bare axum" >&2
cargo build --quiet -p cartlink-local --bin cartlink-local --example bare_axum --profile "$profile"
. bench/local_server.sh
start_local "$bin_dir/cartlink-local" 1
pids+=("$pid")
link=$(curl -fs -X POST "http://127.0.0.1:$port/v1/invites" -H 'Authorization: Bearer bench-key' \
  -H 'Content-Type: application/json' -d '{"cart":"sandbox","merchant_email":"merchant@example.com"}' |
  grep -o 'http://[^"]*/setup/[^"]*')
page_bytes=$(curl -fs "$link" | wc -c)
echo "$page_bytes" > "$work/page_bytes.txt"
# The bare server twice: answering its 60-byte page, and a page as long as cartlink's (what
# remains is then our own work). All three run at once and are loaded in turns, each round in
# another order, so that a machine that slows down or speeds up while measuring (a shared VM)
# weighs on all three alike.
declare -A url=([local]=$link)
for name in bare bare_sized; do
  bare_port=$(free_port)
  BARE_LISTEN=127.0.0.1:$bare_port BARE_PAGE_BYTES=$([ $name = bare_sized ] && echo "$page_bytes" || echo 0) \
    "$bin_dir/examples/bare_axum" & pids+=($!)
  url[$name]=http://127.0.0.1:$bare_port/setup/${link##*/}
  for _ in $(seq 50); do curl -fs -o /dev/null "${url[$name]}" && break; sleep 0.1; done
done
order=(local bare bare_sized)
for round in $(seq "$wrk_rounds"); do
  for i in 0 1 2; do
    name=${order[$(((i + round) % 3))]}
    wrk -t2 -c16 -d"${wrk_secs}s" --latency "${url[$name]}" > "$work/wrk.$name.$round.txt"
  done
done
kill "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true; pid= pids=()

echo "== (c) cold start beside bare lambda_runtime and lambda_http" >&2
command -v valgrind >/dev/null && command -v zip >/dev/null ||
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind zip >/dev/null; }
functions=(grant-page)
[ -n "$quick" ] || functions=(grant-page oauth-callback warehouse-api connection-tokens admin-api cart-events confirmation mail-events webhooks care)
cargo build --quiet --profile "$profile" $(printf -- '-p %s ' "${functions[@]}")
cargo build --quiet -p cartlink-local --example bare_lambda_runtime --example bare_lambda_http --profile "$profile"
python3 bench/cold_start.py "$work/cold.json" "$bin_dir" "${quick:+quick}"

commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!docs/benchmarks.md' || echo "+uncommitted")
python3 bench/report.py "$work" "$out" "$profile" "$commit" "$trips" "$wrk_rounds turns of $wrk_secs s" "${quick:+quick}"
echo "wrote $out" >&2
