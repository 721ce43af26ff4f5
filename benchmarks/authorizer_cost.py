"""The per-request cost of a cached Lambda authorizer decision and of a JWT authorizer, on an HTTP API.

    python benchmarks/authorizer_cost.py [--server hypercorn|uvicorn] [--duration S] [--rounds N] [--connections C]

Starts, as child processes on ephemeral 127.0.0.1 ports:
  * a static OpenID issuer (``python -m http.server`` over a directory holding
    ``.well-known/openid-configuration`` and ``jwks``, with an RSA key made here by authlib),
  * one gateway (``python -m gateway serve``, access log off) with one HTTP API and three routes to
    the same trivial in-process handler: ``GET /none/{id}`` (no auth), ``GET /lambda/{id}`` (a Lambda
    REQUEST authorizer, payload 2.0, simple responses, ttl 300: after the first request every
    decision comes from the cache) and ``GET /jwt/{id}`` (a JWT authorizer against the issuer),
then drives each route with wrk (1 thread, C keep-alive connections, the same ``Authorization``
header on every request; a warm-up run per target first), the three back to back in each round,
in an order that rotates. Functions are in-process, so the gateway's CPU time is the whole
request's cost. Per round, ``cost`` = (CPU us/req with auth - CPU us/req without) / CPU us/req
without; the table shows medians against the issue's target (< 5% each), and the same from req/s.

A second table (``--direct N``, default 20000 requests per target and round) measures the same in
this process without a server: the gateway app built from the same config, ``front.handle()``
called N times per route, CPU time (all threads) per call. It leaves out the HTTP server's share
of a request, so its costs are upper bounds of the wrk figures, and it is far less noisy on a
shared machine. ``--direct 0`` skips it. A last line combines the two: the extra CPU measured
in-process over a whole request's CPU under the server (the wrk baseline), the figure to hold
against the 5% target when the wrk ratios are noisier than 5%.

Needs wrk: apt-get install -y wrk (Debian/Ubuntu), brew install wrk (macOS).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import harness
import httpx
from harness import BenchError, Child, Children, Run, Wrk

HANDLER = '''\
def handler(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": '{"ok":true}'}


def authorize(event, context):
    return {"isAuthorized": event["headers"].get("authorization", "").startswith("Bearer "), "context": {"u": "1"}}
'''
BODY = b'{"ok":true}'
TARGETS = ("none", "lambda", "jwt")
GOAL = 0.05
CHUNK = 250


def make_issuer(directory: Path, url: str) -> str:
    """Write the issuer's static files; return a token valid for a day."""
    with warnings.catch_warnings():
        import authlib.deprecate

        warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
        from authlib.jose import JsonWebKey, jwt

    key = JsonWebKey.generate_key("RSA", 2048, is_private=True, options={"kid": "bench"})
    (directory / ".well-known").mkdir(parents=True)
    (directory / ".well-known" / "openid-configuration").write_text(json.dumps({"issuer": url,
                                                                                "jwks_uri": f"{url}/jwks"}))
    (directory / "jwks").write_text(json.dumps({"keys": [key.as_dict(is_private=False)]}))
    now = int(time.time())
    claims = {"iss": url, "aud": "bench", "sub": "bench-user", "scope": "read", "iat": now, "exp": now + 86400}
    token: bytes = jwt.encode({"alg": "RS256", "kid": "bench"}, claims, key)
    return token.decode()


def gateway_config(directory: Path, port: int, issuer: str) -> str:
    lam = ('{ type = "request", function = "auth", payload_format_version = "2.0", '
           'enable_simple_responses = true, identity_sources = ["$request.header.Authorization"], ttl = 300 }')
    jwt = f'{{ type = "jwt", issuer = {harness.toml_str(issuer)}, audience = ["bench"] }}'
    return "\n".join([
        "[gateway]", "access_log = false", "",
        "[functions.bench]", 'handler = "bench_handler.handler"', f"code_uri = {harness.toml_str(str(directory))}",
        'isolation = "inprocess"', "timeout = 30", "",
        "[functions.auth]", 'handler = "bench_handler.authorize"', f"code_uri = {harness.toml_str(str(directory))}",
        'isolation = "inprocess"', "",
        "[[http_apis]]", 'name = "bench-http"', f'listen = "127.0.0.1:{port}"',
        f"authorizers = {{ lam = {lam}, jwt1 = {jwt} }}",
        "routes = [",
        '  { route = "GET /none/{id}", function = "bench" },',
        '  { route = "GET /lambda/{id}", function = "bench", authorizer = "lam" },',
        '  { route = "GET /jwt/{id}", function = "bench", authorizer = "jwt1", authorization_scopes = ["read"] },',
        "]", "",
    ])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = harness.wrk_parser(__doc__, rounds=5, rounds_help="rounds of the three targets",
                                keep="config, handler, server logs")
    parser.add_argument("--direct", type=int, default=20000,
                        help="requests per target and round for the in-process table (default 20000; 0: skip)")
    parser.add_argument("--no-wrk", action="store_true", help="only the in-process table (no wrk runs)")
    return harness.parse_checked(parser, argv)


def main(argv: list[str] | None = None) -> int:
    return harness.run("authorizer_cost", parse_args(argv), bench)


def start(args: argparse.Namespace, work: Path, children: Children) -> tuple[dict[str, str], str, Child]:
    """Start the issuer and the gateway; return the target URLs, the token and the gateway."""
    issuer_port, gateway_port = harness.free_ports(2)
    issuer_url = f"http://127.0.0.1:{issuer_port}"
    static = work / "issuer"
    token = make_issuer(static, issuer_url)
    issuer = children.start("issuer", [harness.PYTHON, "-m", "http.server", "--bind", "127.0.0.1",
                                       str(issuer_port), "--directory", str(static)], work)
    harness.wait_ready(issuer, f"{issuer_url}/jwks")
    (work / "bench_handler.py").write_text(HANDLER)
    config = work / "gateway.toml"
    config.write_text(gateway_config(work, gateway_port, issuer_url))
    gateway = children.start("gateway", harness.gateway_argv(config, args.server), work, cwd=harness.REPO)
    urls = {t: f"http://127.0.0.1:{gateway_port}/{t}/42" for t in TARGETS}
    harness.wait_ready(gateway, urls["none"])
    for name, url in urls.items():
        response = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        harness.expect(response, 200, BODY, f"{name} at {url}")
    return urls, token, gateway


def bench(args: argparse.Namespace, work: Path, children: Children) -> int:
    wrk = Wrk.create(work, args.connections, args.wrk)
    print(harness.machine_info(wrk.path))
    print(f"server {args.server}; wrk 1 thread, {args.connections} connections; {args.rounds} rounds x "
          f"{args.duration:g} s per target, warm-up {args.warmup:g} s\n", flush=True)
    urls, token, gateway = start(args, work, children)
    runs = None if args.no_wrk else measure_wrk(args, wrk, urls, token, gateway)
    if args.direct:
        harness.progress(f"in-process: {args.direct} requests per target and round")
        cpu = asyncio.run(direct(work / "gateway.toml", token, args.rounds, args.direct))
        print()
        print(direct_report(cpu))
        if runs is not None:
            print()
            print(combined_report(runs, cpu))
    return 0


def combined_report(runs: dict[str, list[Run]], cpu: dict[str, list[float]]) -> str:
    """The authorizer's extra CPU (in-process, precise) over a whole request's CPU (wrk, with the server)."""
    request = harness.median_or_none([r.cpu_us_per_request for r in runs["none"]])
    if not request:
        return "combined: no CPU figures from the wrk runs"
    lines = [f"combined: extra CPU per request (in-process medians) / CPU of a request without auth under "
             f"the server ({request:.0f} us, wrk median)"]
    for name in TARGETS[1:]:
        extra = harness.median([c - b for c, b in zip(cpu[name], cpu["none"], strict=True)])
        cost = extra / request
        lines.append(f"target {name} authorizer cost < {GOAL:.0%} of a request: "
                     f"{'met' if cost < GOAL else 'NOT met'} ({extra:+.1f} us = {cost:+.1%})")
    return "\n".join(lines)


def measure_wrk(
    args: argparse.Namespace, wrk: Wrk, urls: dict[str, str], token: str, gateway: Child
) -> dict[str, list[Run]]:
    wrk = dataclasses.replace(wrk, extra=["-H", f"Authorization: Bearer {token}"])
    harness.progress("every target answers 200 {\"ok\":true} with the token; warming up")
    for name in TARGETS:
        harness.progress("warm-up  " + wrk.run(name, urls[name], args.warmup, gateway).line())
    runs: dict[str, list[Run]] = {t: [] for t in TARGETS}
    for rnd in range(args.rounds):
        order = TARGETS[rnd % 3:] + TARGETS[:rnd % 3]
        for name in order:
            run = wrk.run(name, urls[name], args.duration, gateway)
            runs[name].append(run)
            harness.progress(f"round {rnd + 1}/{args.rounds}  {run.line()}")
    print()
    print(report(args.server, runs))
    return runs


async def direct(config_path: Path, token: str, rounds: int, n: int) -> dict[str, list[float]]:
    """CPU us per ``front.handle()`` call for each route, per round (no server, no sockets)."""
    from gateway.app import create_app
    from gateway.config import load_config
    from gateway.functions import FunctionsService
    from gateway.models import HttpRequest

    config = load_config(config_path)
    functions = FunctionsService(config.functions, config.gateway, log=lambda _function, _line: None)
    front = create_app(config, functions).fronts[0][1]
    headers = (("Host", "127.0.0.1"), ("User-Agent", "bench"), ("Authorization", f"Bearer {token}"))
    out: dict[str, list[float]] = {t: [] for t in TARGETS}
    requests = {t: HttpRequest(method="GET", path=f"/{t}/42", headers=headers) for t in TARGETS}
    try:
        await _calls(front, requests, TARGETS, 200)  # warms every path up (JWKS fetch, caches)
        for _ in range(rounds):
            # Short interleaved slices, so load from other processes falls on every target alike.
            spent = dict.fromkeys(TARGETS, 0.0)
            for chunk in range(max(1, n // CHUNK)):
                order = TARGETS[chunk % 3:] + TARGETS[:chunk % 3]
                for name, seconds in (await _calls(front, requests, order, CHUNK)).items():
                    spent[name] += seconds
            for name in TARGETS:
                out[name].append(spent[name] / (max(1, n // CHUNK) * CHUNK) * 1e6)
    finally:
        await functions.aclose()
    return out


async def _calls(front: Any, requests: dict[str, Any], order: tuple[str, ...], n: int) -> dict[str, float]:
    """CPU seconds (all threads) spent on ``n`` calls of each target, in ``order``."""
    spent = {}
    for name in order:
        started = time.process_time()
        for _ in range(n):
            response = await front.handle(requests[name])
            if response.status != 200:
                raise BenchError(f"in-process {name}: {response.status} {response.body[:200]!r}")
        spent[name] = time.process_time() - started
    return spent


def direct_report(cpu: dict[str, list[float]]) -> str:
    base = cpu["none"]
    rows, verdicts = [], []
    for name in TARGETS:
        costs = [c / b - 1 for c, b in zip(cpu[name], base, strict=True)]
        extra = [c - b for c, b in zip(cpu[name], base, strict=True)]
        goal = "" if name == "none" else f"< {GOAL:.0%}"
        rows.append([f"GET /{name}/{{id}}", f"{harness.median(cpu[name]):.1f}", f"{harness.median(extra):+.1f}",
                     _pct(harness.median(costs)), f"{_pct(min(costs))}..{_pct(max(costs))}", goal])
        if name != "none":
            cost = harness.median(costs)
            verdicts.append(f"in-process: {name} authorizer {goal} of a request: "
                            f"{'met' if cost < GOAL else 'NOT met'} ({cost:+.1%}, {harness.median(extra):+.1f} us)")
    header = ["route", "CPU us/call", "extra us", "cost", "(min-max)", "target"]
    return "\n".join([f"in-process (front.handle(), no server): medians over {len(base)} rounds", "",
                      harness.table(header, rows), "", *verdicts])


def report(server: str, runs: dict[str, list[Run]]) -> str:
    base = runs["none"]
    header = ["route", "req/s", "p50 ms", "p99 ms", "CPU us/req", "cost by CPU", "(min-max)", "cost by req/s",
              "target", "errors"]
    rows, verdicts = [], []
    for name in TARGETS:
        cpu_costs = [r.cpu_us_per_request / b.cpu_us_per_request - 1 for r, b in zip(runs[name], base, strict=True)
                     if r.cpu_us_per_request and b.cpu_us_per_request]
        rps_costs = [b.rps / r.rps - 1 for r, b in zip(runs[name], base, strict=True) if r.rps]
        cost = harness.median(cpu_costs) if cpu_costs else None
        goal = "" if name == "none" else f"< {GOAL:.0%}"
        rows.append([
            f"GET /{name}/{{id}}", f"{harness.median([r.rps for r in runs[name]]):.0f}",
            f"{harness.median([r.p50_ms for r in runs[name]]):.2f}",
            f"{harness.median([r.p99_ms for r in runs[name]]):.2f}",
            harness.num(harness.median_or_none([r.cpu_us_per_request for r in runs[name]])),
            _pct(cost), f"{_pct(min(cpu_costs))}..{_pct(max(cpu_costs))}" if cpu_costs else "-",
            _pct(harness.median(rps_costs) if rps_costs else None), goal,
            str(sum(r.socket_errors + r.non_2xx for r in runs[name])),
        ])
        if name != "none" and cost is not None:
            verdicts.append(f"target {name} authorizer cost {goal} of a request (by CPU): "
                            f"{'met' if cost < GOAL else 'NOT met'} ({cost:+.1%})")
    lines = [f"server {server}: medians over {len(base)} rounds; cost = CPU us/req with the authorizer over "
             "CPU us/req without, minus 1, per round (cost by req/s: the same from throughput)", "",
             harness.table(header, rows), "", *verdicts]
    lines += harness.idle_warnings({f"/{t}": r for t, r in runs.items()})
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1%}"


if __name__ == "__main__":
    sys.exit(main())
