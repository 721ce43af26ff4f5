"""Edge cache hits through a gateway distribution against the bare upstream, in the same run.

    python benchmarks/edge_cache.py [--server hypercorn|uvicorn] [--duration S] [--rounds N] [--connections C]

Two child processes: the bare upstream ([bare_app.py](bare_app.py): a Starlette app answering
``GET /items/{id}`` with ``{"ok":true}``, served like the gateway serves) and a gateway
(``python -m gateway serve``, access log off) with two ``[[distributions]]`` whose origin is that
upstream: ``bench-cache``, whose default behavior has a cache policy (default TTL one day: after the
first request every request is a cache hit, answered without touching the upstream), and
``bench-proxy``, whose default behavior has none (every request is proxied to the upstream over
httpx: CloudFront's CachingDisabled).

Targets, each driven by wrk in turn (order rotating per round), same connections and duration:
``direct`` (wrk straight to the upstream), ``cache hit`` (the gateway, X-Cache: Hit), and
``proxy (no cache)`` (the gateway forwarding each request to the upstream over httpx).
Figures: req/s, latency, the server CPU time per request (the gateway's alone for the gateway
targets: the upstream's own CPU for the proxy target is not counted), and the ratios target/direct
(median over rounds). The issue's target: cache hits faster than direct (ratio > 1.00).

``--upstream lambda``: the upstream is instead an HTTP API of the same gateway (``[[http_apis]]``,
route ``GET /items/{id}``, a trivial in-process Lambda handler returning the same body), reached by
the distributions over loopback HTTP: CloudFront in front of API Gateway and Lambda. ``direct`` is
then wrk straight to that HTTP API.

Needs wrk: apt-get install -y wrk (Debian/Ubuntu), brew install wrk (macOS).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import harness
from harness import Child, Children, Run, Wrk

BODY = b'{"ok":true}'
HANDLER = '''\
def handler(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": '{"ok":true}'}
'''
TARGET = 1.0  # the issue: cache hits faster than direct


def gateway_config(upstream: int, cached: int, proxied: int, lambda_dir: Path | None = None) -> str:
    origin = f'origins = [ {{ id = "up", url = "http://127.0.0.1:{upstream}" }} ]'
    api: list[str] = []
    if lambda_dir is not None:  # the upstream is an HTTP API of this gateway, a Lambda function behind it
        api = ["[functions.bench]", 'handler = "bench_handler.handler"',
               f"code_uri = {harness.toml_str(str(lambda_dir))}", 'isolation = "inprocess"', "timeout = 30", "",
               "[[http_apis]]", 'name = "bench-http"', f'listen = "127.0.0.1:{upstream}"',
               'routes = [ { route = "GET /items/{id}", function = "bench" } ]', ""]
    return "\n".join([
        "[gateway]", "access_log = false", "", *api,
        "[[distributions]]", 'name = "bench-cache"', f'listen = "127.0.0.1:{cached}"', origin,
        'behaviors = [ { path = "*", origin = "up", cache = { default_ttl = 86400 } } ]', "",
        "[[distributions]]", 'name = "bench-proxy"', f'listen = "127.0.0.1:{proxied}"', origin,
        'behaviors = [ { path = "*", origin = "up" } ]',
    ]) + "\n"


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    url: str
    server: Child


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = harness.wrk_parser(__doc__, rounds=3, rounds_help="rounds over the three targets",
                                keep="config, server logs")
    parser.add_argument("--upstream", choices=("bare", "lambda"), default="bare",
                        help="bare: a bare Starlette app (default); lambda: an HTTP API of the gateway with a "
                             "trivial Lambda handler")
    return harness.parse_checked(parser, argv)


def main(argv: list[str] | None = None) -> int:
    return harness.run("edge_cache", parse_args(argv), bench)


def bench(args: argparse.Namespace, work: Path, children: Children) -> int:
    wrk = Wrk.create(work, args.connections, args.wrk)
    print(harness.machine_info(wrk.path))
    print(f"upstream {args.upstream}; server {args.server}; wrk 1 thread, {args.connections} connections; "
          f"{args.rounds} rounds x {args.duration:g} s per target, warm-up {args.warmup:g} s\n", flush=True)
    upstream_port, cached_port, proxied_port = harness.free_ports(3)
    config = work / "gateway.toml"
    lambda_dir = None
    if args.upstream == "lambda":
        (work / "bench_handler.py").write_text(HANDLER)
        lambda_dir = work
    config.write_text(gateway_config(upstream_port, cached_port, proxied_port, lambda_dir))
    gateway = children.start("gateway", harness.gateway_argv(config, args.server), work, cwd=harness.REPO)
    upstream = gateway
    if args.upstream == "bare":
        upstream = children.start("upstream", [harness.PYTHON, str(Path(__file__).with_name("bare_app.py")),
                                               "--server", args.server, "--port", str(upstream_port)], work)
    targets = [Target("direct", f"http://127.0.0.1:{upstream_port}/items/42", upstream),
               Target("cache hit", f"http://127.0.0.1:{cached_port}/items/42", gateway),
               Target("proxy (no cache)", f"http://127.0.0.1:{proxied_port}/items/42", gateway)]
    for target in targets:
        harness.expect(harness.wait_ready(target.server, target.url), 200, BODY, f"{target.name} at {target.url}")
    hit = harness.wait_ready(gateway, targets[1].url)
    if hit.headers.get("x-cache") != "Hit from cloudfront":
        raise harness.BenchError(f"the cached target does not hit: X-Cache {hit.headers.get('x-cache')!r}")
    latency = {t.name: harness.sequential_latency_ms(t.url) for t in targets}
    harness.progress("all targets answer 200 {\"ok\":true}, the cached one with X-Cache: Hit; one request at a "
                     "time: " + ", ".join(f"{name} {ms:.1f} ms" for name, ms in latency.items()))
    for target in targets:
        harness.progress("warm-up  " + wrk.run(target.name, target.url, args.warmup, target.server).line())

    runs: dict[str, list[Run]] = {t.name: [] for t in targets}
    ratios: dict[str, list[float]] = {t.name: [] for t in targets[1:]}
    cpu_ratios: dict[str, list[float]] = {t.name: [] for t in targets[1:]}
    for rnd in range(args.rounds):
        order = targets[rnd % len(targets):] + targets[:rnd % len(targets)]
        got: dict[str, Run] = {}
        for target in order:
            got[target.name] = wrk.run(target.name, target.url, args.duration, target.server)
            harness.progress(f"round {rnd + 1}/{args.rounds}  {got[target.name].line()}")
        for name, run in got.items():
            runs[name].append(run)
        direct = got["direct"]
        for target in targets[1:]:
            ratios[target.name].append(got[target.name].rps / direct.rps)
            mine = got[target.name].cpu_us_per_request
            if mine and direct.cpu_us_per_request:
                cpu_ratios[target.name].append(direct.cpu_us_per_request / mine)
    hits_after = harness.wait_ready(gateway, targets[1].url).headers.get("x-cache")
    print()
    print(report(args.server, runs, ratios, cpu_ratios, latency, hits_after))
    return 0


def report(server: str, runs: dict[str, list[Run]], ratios: dict[str, list[float]],
           cpu_ratios: dict[str, list[float]], latency: dict[str, float], hits_after: str | None) -> str:
    header = ["target", "req/s", "p50 ms", "p99 ms", "x direct", "(min-max)", "CPU us/req", "by CPU",
              "server CPU", "errors"]
    rows = []
    for name, target_runs in runs.items():
        ratio = ratios.get(name)
        rows.append([
            name, f"{harness.median([r.rps for r in target_runs]):.0f}",
            f"{harness.median([r.p50_ms for r in target_runs]):.2f}",
            f"{harness.median([r.p99_ms for r in target_runs]):.2f}",
            f"{harness.median(ratio):.2f}" if ratio else "1.00",
            f"{min(ratio):.2f}-{max(ratio):.2f}" if ratio else "",
            harness.num(harness.median_or_none([r.cpu_us_per_request for r in target_runs])),
            f"{harness.median(cpu_ratios[name]):.2f}" if cpu_ratios.get(name) else ("1.00" if not ratio else "-"),
            harness.pct(harness.median_or_none([r.server_cpu for r in target_runs])),
            str(sum(r.socket_errors + r.non_2xx for r in target_runs)),
        ])
    hit_ratio = harness.median(ratios["cache hit"])
    lines = [f"server {server}: medians over {len(runs['direct'])} rounds; x direct = median of per-round req/s "
             "ratios target/direct; by CPU = direct's server CPU per request / the target's", "",
             harness.table(header, rows), "",
             f"target cache hit faster than direct (x direct > {TARGET:.2f}): "
             f"{'met' if hit_ratio > TARGET else 'NOT met'} ({hit_ratio:.2f})",
             f"X-Cache of the cached target after the runs: {hits_after}",
             "note: the proxy target's CPU column is the gateway's alone; the upstream works too for each request"]
    if any(r.socket_errors or r.non_2xx for target_runs in runs.values() for r in target_runs):
        lines.append("WARNING: some runs had socket errors or non-2xx answers; their figures are suspect")
    stalls = {name: harness.stall_warning(name, ms) for name, ms in latency.items()}
    lines += [w for w in stalls.values() if w]
    lines += harness.idle_warnings(runs, {name for name, w in stalls.items() if w})
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
