"""The cold-start half of `make bench` (bench/bench.sh): each Lambda binary started as Lambda
starts it, against a loopback stand-in for the Lambda Runtime API, beside the bare baselines
(local/examples/bare_lambda_*.rs) built with the same profile.

    cold_start.py OUT_JSON BIN_DIR [quick]

Measures, per binary, and writes them to OUT_JSON for bench/report.py:
- init (exec → the runtime's first `GET …/invocation/next`) and first invoke (the event handed
  over → its response posted), n runs each, the binaries interleaved;
- instructions to the first `next` under `valgrind --tool=callgrind` (stopped by SIGTERM once
  it asks: what is counted is the process up to that request, dynamic loading included);
- the stripped binary's size and its `zip -9` size (as `bootstrap`, as Lambda gets it);
- peak RSS (VmHWM) after a run of invokes.

The environment is what Lambda sets (AWS_LAMBDA_RUNTIME_API, the function's name and log
stream, credentials in AWS_ACCESS_KEY_ID …) plus the functions' own configuration. Each first
event is one a function answers without a network call (an HTTP function gets a route it does
not serve, an event function an empty batch, care an event that is not its schedule, which it
refuses).

Every function is started twice per round, interleaved with the rest:
- configuration from the environment only: no AWS endpoint is reachable, and none needs to be;
- configuration read as deployed, from the SSM SecureString parameter `CARTLINK_CONFIG_PARAMETER`
  names, served by a loopback stand-in for SSM (plain HTTP: `AWS_ENDPOINT_URL` points every AWS
  client at it). The stand-in times its own part (the request read → the answer written) so the
  report gives that wait apart, and counts every other request a function makes before its
  first `next`: init must make none.
"""
import json
import os
import queue
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

out_path, bin_dir = sys.argv[1], sys.argv[2]
quick = len(sys.argv) > 3 and sys.argv[3] == "quick"
RUNS = 3 if quick else int(os.environ.get("COLD_RUNS", "60"))
INVOKES = 50 if quick else 1000
WAIT = 10.0

HTTP_EVENT = {
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/bench/not-served",
    "rawQueryString": "",
    "headers": {"host": "cartlink.example", "user-agent": "bench"},
    "requestContext": {
        "accountId": "123456789012",
        "apiId": "bench",
        "domainName": "cartlink.example",
        "domainPrefix": "cartlink",
        "http": {
            "method": "GET",
            "path": "/bench/not-served",
            "protocol": "HTTP/1.1",
            "sourceIp": "192.0.2.1",
            "userAgent": "bench",
        },
        "requestId": "bench",
        "routeKey": "$default",
        "stage": "$default",
        "time": "30/Nov/2026:00:00:00 +0000",
        "timeEpoch": 0,
    },
    "isBase64Encoded": False,
}
EMPTY_BATCH = {"Records": []}
# care's only event is its schedule, whose run reads the store (a network call): its first invoke
# is an event that is not the schedule, which it refuses before any call.
NOT_SCHEDULED = {"source": "bench", "detail-type": "not the schedule"}
# The functions whose first event is one they refuse: their error answer is the expected one.
REFUSING = {"care"}

# (name, path under BIN_DIR, first event, kind). Baselines first; quick mode keeps the
# baselines and grant-page.
BINARIES = [
    ("bare lambda_runtime", "examples/bare_lambda_runtime", {}, "baseline"),
    ("bare lambda_http", "examples/bare_lambda_http", HTTP_EVENT, "baseline"),
    ("grant-page", "grant-page", HTTP_EVENT, "function"),
    ("oauth-callback", "oauth-callback", HTTP_EVENT, "function"),
    ("warehouse-api", "warehouse-api", HTTP_EVENT, "function"),
    ("connection-tokens", "connection-tokens", HTTP_EVENT, "function"),
    ("admin-api", "admin-api", HTTP_EVENT, "function"),
    ("cart-events", "cart-events", HTTP_EVENT, "function"),
    ("confirmation", "confirmation", EMPTY_BATCH, "function"),
    ("mail-events", "mail-events", EMPTY_BATCH, "function"),
    ("webhooks", "webhooks", EMPTY_BATCH, "function"),
    ("care", "care", NOT_SCHEDULED, "function"),
]
if quick:
    BINARIES = BINARIES[:3]
if os.environ.get("COLD_ONLY"):  # a comma-separated list of names, to look at one binary
    BINARIES = [b for b in BINARIES if b[0] in os.environ["COLD_ONLY"].split(",")]
BINARIES = [b for b in BINARIES if os.path.exists(os.path.join(bin_dir, b[1]))]


class Run:
    """One process's conversation with the stand-in: the events it is handed, and when it
    asked for each and answered each."""

    def __init__(self, events):
        self.events = queue.Queue()
        for e in events:
            self.events.put(e)
        self.asked = []  # perf_counter_ns of each `next`
        self.handed = []  # when each event went out
        self.answered = []  # when each response came in
        self.done = threading.Event()
        self.expected = len(events)
        self.errors = []
        self.ssm = []  # [request read, answer written] of each GetParameter
        self.other_aws = []  # any other AWS request, by X-Amz-Target or path


current = None


class RuntimeApi(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # The run this connection was opened in: a stopped process's request still in flight on
        # its kept-alive connection must not count as the next run's (it once made a run's
        # first `next` come before its configuration read).
        self.run = current

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def do_GET(self):
        run = current
        if run is None or run is not self.run:
            self.close_connection = True
            return self.reply(404)
        if not self.path.endswith("/runtime/invocation/next"):
            return self.reply(404)
        run.asked.append(time.perf_counter_ns())
        while True:
            if current is not run:
                self.close_connection = True
                return
            try:
                event = run.events.get(timeout=0.05)
                break
            except queue.Empty:
                continue
        body = json.dumps(event).encode()
        request_id = f"bench-{len(run.handed)}"
        deadline = int(time.time() * 1000) + 60_000
        headers = [
            ("Content-Type", "application/json"),
            ("Lambda-Runtime-Aws-Request-Id", request_id),
            ("Lambda-Runtime-Deadline-Ms", str(deadline)),
            ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:bench"),
            ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0"),
        ]
        run.handed.append(time.perf_counter_ns())
        self.reply(200, body, headers)

    def do_POST(self):
        run = current
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if run is not None and run is self.run:
            if self.path.endswith("/response"):
                run.answered.append(time.perf_counter_ns())
            else:
                run.errors.append(f"{self.path}: {body[:300]!r}")
                run.answered.append(time.perf_counter_ns())
            if len(run.answered) >= run.expected:
                run.done.set()
        self.reply(202, b'{"status":"OK"}', [("Content-Type", "application/json")])


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A killed process drops its connections; nothing to report.
        if not isinstance(sys.exc_info()[1], (ConnectionError, BrokenPipeError)):
            super().handle_error(request, client_address)


server = Server(("127.0.0.1", 0), RuntimeApi)
threading.Thread(target=server.serve_forever, daemon=True).start()
port = server.server_address[1]

config_dir = tempfile.mkdtemp()

PARAMETER = "/cartlink/bench/config"


def deployed_config():
    """The TOML the SSM parameter holds, shaped as a deployment's: warehouses with their key
    hashes, and cart app credentials with their secrets inline (random here)."""
    warehouses = "".join(
        f'[[warehouses]]\nid = "wh-{i}"\nname = "Warehouse {i}"\n'
        f'notify_email = "ops@wh-{i}.example"\napi_key_sha256 = ["{secrets.token_hex(32)}", "{secrets.token_hex(32)}"]\n\n'
        for i in range(20)
    )
    apps = "".join(
        f'[cart_credentials.{cart}]\nclient_id = "bench-{cart}"\nclient_secret = "{secrets.token_hex(24)}"\n{extra}\n'
        for cart, extra in [
            ("shopify", ""),
            ("bigcommerce", ""),
            ("ebay", 'ru_name = "Bench-Bench-Bench-abcdef"\n'),
            ("amazon-sp-api", 'app_id = "amzn1.sellerapps.app.bench"\n'),
            ("square", ""),
            ("woocommerce", ""),
        ]
    )
    return warehouses + apps


CONFIG_TEXT = deployed_config()


class AwsStandIn(RuntimeApi):
    """SSM's `GetParameter` (JSON 1.1 protocol) answering the deployed configuration; any other
    request is recorded against the running process and refused. (A RuntimeApi for its socket
    options and replies only.)"""

    def setup(self):
        super().setup()
        # The stand-in's wait starts when it takes the connection: starting its thread and
        # parsing the request line and headers (Python's http.server, a good part of a
        # millisecond) are the stand-in's work, not the function's. The kernel's accept queue
        # before that stays counted as the function's.
        self.taken = time.perf_counter_ns()

    def do_POST(self):
        run = current
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        target = self.headers.get("X-Amz-Target", "")
        # A connection's first request waited from when the connection was taken; a later one
        # (the functions make one read, so none) from when its body was in.
        read, self.taken = self.taken or time.perf_counter_ns(), None
        if target != "AmazonSSM.GetParameter":
            if run is not None:
                run.other_aws.append(target or self.path)
            return self.reply(400, b'{"__type":"UnknownOperationException"}',
                              [("Content-Type", "application/x-amz-json-1.1")])
        asked = json.loads(body or b"{}")
        answer = {
            "Parameter": {
                "Name": asked.get("Name"),
                "Type": "SecureString",
                "Value": CONFIG_TEXT,
                "Version": 1,
                "DataType": "text",
                "ARN": f"arn:aws:ssm:us-east-1:123456789012:parameter{asked.get('Name')}",
            }
        }
        # Recorded before the answer goes out: the process may ask for its first event before
        # this thread runs again.
        timing = [read, None]
        if run is not None:
            run.ssm.append(timing)
        self.reply(200, json.dumps(answer).encode(), [("Content-Type", "application/x-amz-json-1.1")])
        timing[1] = time.perf_counter_ns()

    do_GET = do_POST


aws = Server(("127.0.0.1", 0), AwsStandIn)
threading.Thread(target=aws.serve_forever, daemon=True).start()
aws_port = aws.server_address[1]


def environment(name, ssm=False):
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env.update(
        {
            "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": "2026/11/30/[$LATEST]bench",
            "AWS_LAMBDA_LOG_FORMAT": "JSON",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_EXECUTION_ENV": "AWS_Lambda_provided.al2023",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "AKIDBENCHBENCHBENCH0",
            "AWS_SECRET_ACCESS_KEY": "bench-secret-access-key-not-a-real-one",
            "AWS_SESSION_TOKEN": "bench-session-token",
            "LAMBDA_TASK_ROOT": "/var/task",
            "_HANDLER": "bootstrap",
            "TZ": ":UTC",
            # The functions' own configuration, as the SAM template sets it.
            "CARTLINK_PUBLIC_BASE_URL": "https://cartlink.example",
            "CARTLINK_TABLE": "cartlink-bench",
            "CARTLINK_KMS_KEY_ID": "alias/cartlink-bench",
            "CARTLINK_MAIL_FROM": "cartlink <no-reply@cartlink.example>",
            "CARTLINK_WEBHOOK_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/bench",
            "CARTLINK_WEBHOOK_DLQ_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/bench-dlq",
        }
    )
    if ssm:
        env["CARTLINK_CONFIG_PARAMETER"] = PARAMETER
        env["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{aws_port}"
    return env


def start(cmd, name, events, ssm=False):
    global current
    run = Run(events)
    current = run
    log = tempfile.TemporaryFile(dir=config_dir)
    started = time.perf_counter_ns()
    proc = subprocess.Popen(cmd, env=environment(name, ssm), stdout=log, stderr=subprocess.STDOUT)
    proc.stdout_log = log
    return run, proc, started


def stop(proc):
    global current
    current = None
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    proc.stdout_log.seek(0)
    return proc.stdout_log.read().decode(errors="replace")[-2000:]


def wait_for(cond, proc, what):
    deadline = time.monotonic() + WAIT
    while not cond():
        if proc.poll() is not None:
            raise RuntimeError(f"exited ({proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"no {what} within {WAIT}s")
        time.sleep(0.0002)


def cold_start(name, path, event):
    run, proc, started = start([os.path.join(bin_dir, path)], name, [event])
    try:
        wait_for(lambda: run.asked, proc, "first next")
    except RuntimeError as e:
        raise RuntimeError(f"{name}: {e}: {stop(proc)}")
    init = (run.asked[0] - started) / 1e6
    try:
        wait_for(run.done.is_set, proc, "first response")
    except RuntimeError as e:
        # Counted and reported, not fatal: one stuck invoke must not lose the whole run.
        print(f"{name}: {e}: {stop(proc)[-300:]}", file=sys.stderr)
        return init, None
    stop(proc)
    if run.errors and name not in REFUSING:
        raise RuntimeError(f"{name}: the first event failed: {run.errors[0]}")
    return init, (run.answered[0] - run.handed[0]) / 1e6


class UnseenRead(Exception):
    """A deployed start whose configuration read the stand-in recorded too late to time."""


def cold_start_deployed(name, path):
    """Init with the configuration read from SSM, as deployed: (init, the stand-in's wait), both
    in ms. Exactly one `GetParameter` and no other AWS request may come before the first `next`."""
    run, proc, started = start([os.path.join(bin_dir, path)], name, [], ssm=True)
    try:
        wait_for(lambda: run.asked, proc, "first next")
    except RuntimeError as e:
        raise RuntimeError(f"{name} (SSM): {e}: {stop(proc)}")
    asked = run.asked[0]
    reads = [r for r in run.ssm if r[0] <= asked]
    others = list(run.other_aws)
    stop(proc)
    if not reads and not others and run.ssm:
        # The read was answered but recorded after the first `next` was (seen a few times in a
        # thousand runs, with and without LTO): the stand-in's race, not the function's.
        raise UnseenRead(name)
    if len(reads) != 1 or others:
        raise RuntimeError(
            f"{name}: init made {len(reads)} GetParameter calls and other AWS calls {others}; "
            "the configuration read must be the only one"
        )
    read, answered = reads[0]
    return (asked - started) / 1e6, (answered - read) / 1e6


def instructions(name, path, ssm=False):
    """Instructions to the first `next`, under callgrind (with `ssm`, the configuration read
    from the SSM stand-in, as deployed)."""
    out = tempfile.mktemp(prefix="callgrind.", dir=config_dir)
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", f"--log-file={out}.log",
           os.path.join(bin_dir, path)]
    run, proc, _ = start(cmd, name, [], ssm=ssm)
    try:
        deadline = time.monotonic() + 300
        while not run.asked:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} under callgrind never asked for an event: {stop(proc)}")
            time.sleep(0.01)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
    finally:
        stop(proc)
    if os.environ.get("CALLGRIND_KEEP"):  # a directory: keep the profile for callgrind_annotate
        shutil.copy(out, os.path.join(os.environ["CALLGRIND_KEEP"],
                                      f"callgrind.{path.replace('/', '_')}{'.ssm' if ssm else ''}"))
    for line in open(out):
        if line.startswith("summary:") or line.startswith("totals:"):
            return int(line.split()[1])
    raise RuntimeError(f"{name}: no total in {out}")


def sizes(path):
    work = tempfile.mkdtemp(dir=config_dir)
    bootstrap = os.path.join(work, "bootstrap")
    subprocess.run(["strip", "-o", bootstrap, os.path.join(bin_dir, path)], check=True)
    subprocess.run(["zip", "-9", "-q", "-j", os.path.join(work, "b.zip"), bootstrap], check=True)
    return os.path.getsize(bootstrap), os.path.getsize(os.path.join(work, "b.zip"))


def peak_rss(name, path, event):
    """VmHWM (kB) after INVOKES invokes of the same event."""
    run, proc, _ = start([os.path.join(bin_dir, path)], name, [event] * INVOKES)
    try:
        wait_for(run.done.is_set, proc, f"{INVOKES} responses")
        wait_for(lambda: len(run.asked) > INVOKES, proc, "the next request")
        status = open(f"/proc/{proc.pid}/status").read()
    except RuntimeError as e:
        raise RuntimeError(f"{name}: {e}: {stop(proc)}")
    stop(proc)
    return next(int(l.split()[1]) for l in status.splitlines() if l.startswith("VmHWM:"))


def pct(values, p):
    values = sorted(values)
    k = (len(values) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


results = {
    b[0]: {"kind": b[3], "init": [], "invoke": [], "unanswered": 0, "ssm_init": [], "ssm_wait": []}
    for b in BINARIES
}
rng = random.Random(14)
for i in range(RUNS):
    # Each function twice (configuration from the environment, and from SSM as deployed), the
    # baselines once, all in one shuffled order.
    order = [(b, False) for b in BINARIES] + [(b, True) for b in BINARIES if b[3] == "function"]
    rng.shuffle(order)
    for (name, path, event, _), deployed in order:
        if deployed:
            for _ in range(3):
                try:
                    init, wait = cold_start_deployed(name, path)
                    break
                except UnseenRead:
                    # Counted, and the start measured again.
                    results[name]["ssm_unseen"] = results[name].get("ssm_unseen", 0) + 1
            else:
                raise RuntimeError(f"{name}: three deployed starts whose read was not seen")
            results[name]["ssm_init"].append(init)
            results[name]["ssm_wait"].append(wait)
            continue
        init, invoke = cold_start(name, path, event)
        results[name]["init"].append(init)
        if invoke is None:
            results[name]["unanswered"] += 1
        else:
            results[name]["invoke"].append(invoke)
    print(f"cold starts: round {i + 1}/{RUNS}", file=sys.stderr, end="\r")
print(file=sys.stderr)

for name, path, event, _ in BINARIES:
    r = results[name]
    r["init_p50"], r["init_p90"] = pct(r["init"], 0.5), pct(r["init"], 0.9)
    r["invoke_p50"], r["invoke_p90"] = pct(r["invoke"], 0.5), pct(r["invoke"], 0.9)
    r["runs"] = len(r["init"])
    if r["ssm_init"]:
        # The wait is the stand-in's; the rest of that init is the function's own work, which
        # the target compares with the bare runtime.
        own = [init - wait for init, wait in zip(r["ssm_init"], r["ssm_wait"])]
        r["ssm_init_p50"], r["ssm_init_p90"] = pct(r["ssm_init"], 0.5), pct(r["ssm_init"], 0.9)
        r["ssm_wait_p50"] = pct(r["ssm_wait"], 0.5)
        r["ssm_own_p50"], r["ssm_own_p90"] = pct(own, 0.5), pct(own, 0.9)
    del r["init"], r["invoke"], r["ssm_init"], r["ssm_wait"]
    r["instructions"] = instructions(name, path)
    if r["kind"] == "function":
        r["ssm_instructions"] = instructions(name, path, ssm=True)
    r["stripped"], r["zip"] = sizes(path)
    r["rss_kb"] = peak_rss(name, path, event)
    print(f"{name}: init p50 {r['init_p50']:.2f} ms, {r['instructions'] / 1e6:.1f} M instructions, "
          f"zip {r['zip'] / 1e6:.2f} MB, RSS {r['rss_kb'] / 1024:.1f} MiB", file=sys.stderr)

shutil.rmtree(config_dir, ignore_errors=True)
with open(out_path, "w") as f:
    json.dump({"runs": RUNS, "invokes": INVOKES, "binaries": results}, f, indent=1)
