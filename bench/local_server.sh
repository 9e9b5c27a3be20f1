# Sourced by the bench scripts: starts the local server built at $1 on a free loopback port with
# a fresh data dir and the dev API key `bench-key`, limits raised to allow $2 invites; sets
# `port`, `data` and `pid`, and waits until it answers. The caller removes $data and kills $pid.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

start_local() {
  local bin=$1 n=$2
  port=$(free_port)
  data=$(mktemp -d)
  CARTLINK_LISTEN=127.0.0.1:$port CARTLINK_PUBLIC_BASE_URL=http://127.0.0.1:$port \
    CARTLINK_DATA_DIR=$data CARTLINK_DEV_API_KEY=bench-key RUST_LOG=warn \
    CARTLINK_INVITES_PER_WAREHOUSE_PER_HOUR=$((n + 1)) CARTLINK_EMAILS_PER_ADDRESS_PER_DAY=$((n + 1)) \
    "$bin" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && return 0; sleep 0.1; done
  echo "the local server did not answer on port $port" >&2
  return 1
}
