"""The cold-start section of docs/benchmarks.md, from bench/cold_start.py's measures, with
ratios to the bare baselines and the issue's targets (used by bench/report.py)."""

DEV_NOTE = """
**These are `dev` builds** (unoptimized): init times and instruction counts are many times a
release build's, and sizes larger. Read the ratios to the baselines built the same way; the
targets are for release builds (`PROFILE=release make bench`).
"""


def mb(n):
    return n / 1e6


def row(name, r, base):
    return (
        f"| {name} | {r['init_p50']:.2f} / {r['init_p90']:.2f} ms "
        f"| {r['init_p50'] / base['init_p50']:.1f}× "
        f"| {r['invoke_p50']:.2f} / {r['invoke_p90']:.2f} ms"
        f"{' (' + str(r['unanswered']) + ' unanswered in 10 s)' if r.get('unanswered') else ''} "
        f"| {r['instructions'] / 1e6:.1f} M ({r['instructions'] / base['instructions']:.0f}×) "
        f"| {mb(r['stripped']):.2f} / {mb(r['zip']):.2f} MB | {mb(r['rss_kb'] * 1024):.1f} MB |"
    )


def deployed_row(name, r, base):
    return (
        f"| {name} | {r['ssm_init_p50']:.2f} / {r['ssm_init_p90']:.2f} ms "
        f"| {r['ssm_wait_p50']:.2f} ms "
        f"| {r['ssm_own_p50']:.2f} / {r['ssm_own_p90']:.2f} ms "
        f"| {r['ssm_own_p50'] / base['init_p50']:.1f}× "
        f"| {r['ssm_instructions'] / 1e6:.2f} M (+{(r['ssm_instructions'] - r['instructions']) / 1e6:.2f} M) |"
    )


def section(cold, profile):
    b = cold["binaries"]
    base = b["bare lambda_runtime"]
    functions = [r for r in b.values() if r["kind"] == "function"]
    release = profile == "release"
    tag = "" if release else " (dev build)"

    def worst(key):
        return max(r[key] for r in functions)

    def target(what, value, met):
        return f"| {what} | {value} | {'yes' if met else 'no'}{tag} |"

    rows = "\n".join(row(name, r, base) for name, r in b.items())
    deployed = "\n".join(
        deployed_row(name, r, base) for name, r in b.items() if r["kind"] == "function"
    )
    targets = "\n".join(
        [
            target("init p50 ≤ 2× bare `lambda_runtime`",
                   f"{worst('init_p50') / base['init_p50']:.1f}×",
                   worst("init_p50") <= 2 * base["init_p50"]),
            target("init p50 as deployed (configuration from SSM), less the SSM wait, ≤ 2× bare "
                   "`lambda_runtime`; that read the only AWS call in init",
                   f"{worst('ssm_own_p50') / base['init_p50']:.1f}×; one `GetParameter`, "
                   "no other call, in every run",
                   worst("ssm_own_p50") <= 2 * base["init_p50"]),
            target("instructions to the first `next` ≤ 3 M",
                   f"{worst('instructions') / 1e6:.1f} M", worst("instructions") <= 3e6),
            target("instructions to the first `next` as deployed ≤ 3 M",
                   f"{worst('ssm_instructions') / 1e6:.1f} M", worst("ssm_instructions") <= 3e6),
            target("`zip -9` ≤ 4 MB", f"{mb(worst('zip')):.2f} MB", worst("zip") <= 4e6),
            target("peak RSS ≤ 16 MB", f"{mb(worst('rss_kb') * 1024):.1f} MB",
                   worst("rss_kb") * 1024 <= 16e6),
        ]
    )
    return f"""
### Cold start

Each binary started as Lambda starts it (the environment Lambda sets, credentials in it, the
functions' `CARTLINK_*` configuration without the SSM parameter; no AWS endpoint is reachable,
and init calls none; the configuration read as deployed is measured below) against a loopback stand-in for the
Runtime API (`TCP_NODELAY`), n = {cold["runs"]} runs each, the binaries interleaved in a
shuffled order (`bench/cold_start.py`). Init: exec → the first
`GET /2018-06-01/runtime/invocation/next`; first invoke: the event handed over → its response
posted (an HTTP function gets a route it does not serve, an event function an empty batch, care
an event that is not its schedule, which it refuses: no network call). Instructions: to the first `next` under `valgrind --tool=callgrind` (dynamic
loading included). Sizes: the binary stripped, and `zip -9` of it as `bootstrap`. Peak RSS:
VmHWM after {cold["invokes"]} invokes. The baselines are `local/examples/bare_lambda_runtime.rs`
and `bare_lambda_http.rs`.
{"" if release else DEV_NOTE}
| | init p50 / p90 | init p50 ÷ bare `lambda_runtime` | first invoke p50 / p90 | instructions to the first `next` (÷ bare `lambda_runtime`) | stripped / `zip -9` | peak RSS |
| --- | --- | --- | --- | --- | --- | --- |
{rows}

Init as deployed: the same functions, each also started with `CARTLINK_CONFIG_PARAMETER` set
and every AWS client pointed (`AWS_ENDPOINT_URL`) at a loopback stand-in for SSM that answers
`GetParameter` with a deployment-shaped configuration (20 warehouses with two key hashes each,
six carts' app credentials), interleaved with the runs above. The stand-in's wait (from taking
the connection, so its own thread start and request parsing are its, → its answer written) is
given apart; what remains is the function's own work, the SSM
client and its one HTTP exchange included. Plain HTTP: the TLS handshake and the network's
round trip of a real SSM endpoint are not in these numbers. Every run is checked to make exactly
one `GetParameter` and no other AWS request before its first `next`.

| | init p50 / p90 as deployed | the stand-in's wait p50 | init less that wait p50 / p90 | ÷ bare `lambda_runtime` | instructions to the first `next` (+ over the environment only) |
| --- | --- | --- | --- | --- | --- |
{deployed}

| target (for release builds) | worst function here | met? |
| --- | --- | --- |
{targets}
"""
