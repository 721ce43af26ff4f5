"""Routing scale: the gateway with 1 route against the gateway with 1,000 routes, in the same run.

    python benchmarks/routing_scale.py [--server hypercorn|uvicorn] [--duration S] [--rounds N]
                                       [--connections C] [--routes N] [--apis http,rest]

Starts two gateways (child processes, ephemeral 127.0.0.1 ports, access log off), each with an HTTP
API and a REST API whose trivial handler answers with the routeKey / resource it was invoked for:
  * small: the one route   GET /api/res{T}/{id}   (REST: resource /api/res{T}/{id}, method GET),
  * large: N routes, a mix of literal, {param} and {proxy+} routes
        GET /api/res{i}       GET /api/res{i}/{id}   ANY /api/res{i}/files/{proxy+}
    for i = 0..N/3, so the target route T sits near the end of the list.
Both are hit with GET /api/res{T}/42 (REST: /bench/api/res{T}/42). For each round and each API,
wrk runs small and large back to back (order alternating); the ratio large/small is taken per
pair and the table shows medians. Target (the issue): 1000/1 >= 0.95.

Needs wrk: apt-get install -y wrk (Debian/Ubuntu), brew install wrk (macOS).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import harness
from harness import Child, Children, Run, Wrk

APIS = ("http", "rest")
STAGE = "bench"
TARGET_RATIO = 0.95
HANDLER = '''\
def handler(event, context):
    # The route that matched, so the benchmark can check the router picked the right one.
    key = event.get("routeKey") or event.get("resource")
    return {"statusCode": 200, "headers": {"Content-Type": "text/plain"}, "body": key}
'''


def route_set(count: int) -> tuple[list[tuple[str, str]], int]:
    """``count`` (method, path) pairs, literal / {param} / {proxy+} in turn; and the index of the target,
    the last {param} route in the list."""
    routes: list[tuple[str, str]] = []
    i = 0
    while len(routes) < count:
        for method, path in (("GET", f"/api/res{i}"), ("GET", f"/api/res{i}/{{id}}"),
                             ("ANY", f"/api/res{i}/files/{{proxy+}}")):
            if len(routes) < count:
                routes.append((method, path))
        i += 1
    return routes, max(n for n, (_, path) in enumerate(routes) if path.endswith("/{id}"))


def gateway_config(directory: Path, routes: list[tuple[str, str]], ports: dict[str, int], apis: list[str]) -> str:
    parts = [
        "[gateway]",
        "access_log = false",
        "",
        "[functions.bench]",
        'handler = "route_handler.handler"',
        f"code_uri = {harness.toml_str(str(directory))}",
        "timeout = 30",
        'isolation = "inprocess"',  # routing cost alone, without process IPC
    ]
    if "http" in apis:
        parts += ["", "[[http_apis]]", 'name = "scale-http"', f'listen = "127.0.0.1:{ports["http"]}"', "routes = ["]
        parts += [f'  {{ route = "{m} {p}", function = "bench" }},' for m, p in routes]
        parts += ["]"]
    if "rest" in apis:
        parts += ["", "[[rest_apis]]", 'name = "scale-rest"', f'listen = "127.0.0.1:{ports["rest"]}"',
                  f'stage = "{STAGE}"', "routes = ["]
        parts += [f'  {{ method = "{m}", path = "{p}", function = "bench" }},' for m, p in routes]
        parts += ["]"]
    return "\n".join(parts) + "\n"


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    url: str
    expected: bytes
    server: Child


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = harness.wrk_parser(__doc__, rounds=3, rounds_help="small/large pairs per API",
                                keep="configs, handler, server logs")
    parser.add_argument("--routes", type=int, default=1000, help="routes in the large gateway (default 1000)")
    parser.add_argument("--apis", default="http,rest", help="comma-separated subset of http,rest (default both)")
    args = parser.parse_args(argv)
    args.api_list = [a.strip() for a in args.apis.split(",") if a.strip()]
    if not args.api_list or any(a not in APIS for a in args.api_list):
        parser.error(f"--apis: choose from {', '.join(APIS)}")
    if args.routes < 2:
        parser.error("--routes must be at least 2")
    if args.rounds < 1 or args.duration < 1:
        parser.error("--rounds and --duration must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    return harness.run("routing_scale", parse_args(argv), bench)


def bench(args: argparse.Namespace, work: Path, children: Children) -> int:
    apis: list[str] = args.api_list
    wrk = Wrk.create(work, args.connections, args.wrk)
    print(harness.machine_info(wrk.path))
    print(f"server {args.server}; wrk 1 thread, {args.connections} connections; {args.rounds} rounds x "
          f"{args.duration:g} s per target, warm-up {args.warmup:g} s\n", flush=True)

    (work / "route_handler.py").write_text(HANDLER)
    large_routes, index = route_set(args.routes)
    route = large_routes[index][1]  # /api/res{T}/{id}
    path = route.replace("{id}", "42")
    sizes = {"1": [("GET", route)], str(args.routes): large_routes}
    literal = sum(1 for _, p in large_routes if "{" not in p)
    param = sum(1 for _, p in large_routes if p.endswith("{id}"))
    print(f"large gateway: {len(large_routes)} routes ({literal} literal, {param} {{param}}, "
          f"{len(large_routes) - literal - param} {{proxy+}}); the target is route {index + 1} of "
          f"{len(large_routes)}: GET {route}; requests: GET {path}\n", flush=True)

    targets: dict[tuple[str, str], Target] = {}
    t0 = time.monotonic()
    for size, routes in sizes.items():
        ports = dict(zip(apis, harness.free_ports(len(apis)), strict=True))
        config = work / f"gateway-{size}.toml"
        config.write_text(gateway_config(work, routes, ports, apis))
        child = children.start(f"gateway-{size}", harness.gateway_argv(config, args.server), work,
                               cwd=harness.REPO)
        for api in apis:
            prefix, expected = ("", f"GET {route}") if api == "http" else (f"/{STAGE}", route)
            url = f"http://127.0.0.1:{ports[api]}{prefix}{path}"
            targets[(api, size)] = Target(f"{api} {size} route{'s' if size != '1' else ''}", url,
                                          expected.encode(), child)
    for size in sizes:
        for target in (t for (_, s), t in targets.items() if s == size):
            response = harness.wait_ready(target.server, target.url)
            harness.expect(response, 200, target.expected, f"{target.name} at {target.url}")
        # Both gateways start at once, so this includes some waiting for the other one.
        harness.progress(f"gateway with {size} route(s): every front answered {time.monotonic() - t0:.1f} s "
                         "after start")
    latency = {t.name: harness.sequential_latency_ms(t.url) for t in targets.values()}
    harness.progress("every target answers with its route; one request at a time: "
                     + ", ".join(f"{name} {ms:.1f} ms" for name, ms in latency.items()))
    harness.progress("warming up")

    for target in targets.values():
        harness.progress("warm-up  " + wrk.run(target.name, target.url, args.warmup, target.server).line())

    small_key, large_key = list(sizes)
    runs: dict[tuple[str, str], list[Run]] = {key: [] for key in targets}
    ratios: dict[str, list[float]] = {api: [] for api in apis}
    cpu_ratios: dict[str, list[float]] = {api: [] for api in apis}
    for rnd in range(args.rounds):
        for index, api in enumerate(apis):
            pair = [(api, small_key), (api, large_key)]
            if (rnd + index) % 2:
                pair.reverse()
            got: dict[str, Run] = {}
            for key in pair:
                target = targets[key]
                run = wrk.run(target.name, target.url, args.duration, target.server)
                got[key[1]] = run
                runs[key].append(run)
                harness.progress(f"round {rnd + 1}/{args.rounds}  {run.line()}")
            ratios[api].append(got[large_key].rps / got[small_key].rps)
            small_cpu, large_cpu = got[small_key].cpu_us_per_request, got[large_key].cpu_us_per_request
            if small_cpu and large_cpu:
                cpu_ratios[api].append(small_cpu / large_cpu)

    print()
    print(report(args.server, args.routes, apis, runs, ratios, cpu_ratios, small_key, large_key, latency))
    return 0


def report(server: str, count: int, apis: list[str], runs: dict[tuple[str, str], list[Run]],
           ratios: dict[str, list[float]], cpu_ratios: dict[str, list[float]], small_key: str,
           large_key: str, latency: dict[str, float]) -> str:
    header = ["api", "routes", "req/s", "p50 ms", "p99 ms", f"{count}/1", "(min-max)", "target",
              "CPU us/req", "by CPU", "server CPU", "wrk CPU", "errors"]
    rows = []
    verdicts = []
    for api in apis:
        ratio = harness.median(ratios[api])
        by_cpu = f"{harness.median(cpu_ratios[api]):.2f}" if cpu_ratios[api] else "-"
        for size in (small_key, large_key):
            these = runs[(api, size)]
            big = size == large_key
            rows.append([
                f"{api.upper()} API" if not big else "", size,
                f"{harness.median([r.rps for r in these]):.0f}",
                f"{harness.median([r.p50_ms for r in these]):.2f}",
                f"{harness.median([r.p99_ms for r in these]):.2f}",
                f"{ratio:.2f}" if big else "",
                f"{min(ratios[api]):.2f}-{max(ratios[api]):.2f}" if big else "",
                f">= {TARGET_RATIO:.2f}" if big else "",
                harness.num(harness.median_or_none([r.cpu_us_per_request for r in these])),
                by_cpu if big else "",
                harness.pct(harness.median_or_none([r.server_cpu for r in these])),
                harness.pct(harness.median_or_none([r.wrk_cpu for r in these])),
                str(sum(r.socket_errors + r.non_2xx for r in these)),
            ])
        met = "met" if ratio >= TARGET_RATIO else "NOT met"
        verdicts.append(f"target {api.upper()} API {count}/1 >= {TARGET_RATIO:.2f}: {met} ({ratio:.2f}; "
                        f"by CPU {by_cpu})")
    rounds = len(next(iter(ratios.values())))
    lines = [f"server {server}: medians over {rounds} rounds; {count}/1 = median of per-pair req/s ratios; "
             "by CPU = the same with the server's CPU time per request (small/large)", "",
             harness.table(header, rows), "", *verdicts]
    if any(r.socket_errors or r.non_2xx for these in runs.values() for r in these):
        lines.append("WARNING: some runs had socket errors or non-2xx answers; their figures are suspect")
    stalls = {name: harness.stall_warning(name, ms) for name, ms in latency.items()}
    lines += [w for w in stalls.values() if w]
    names = {key: f"{key[0]} {key[1]} route{'s' if key[1] != '1' else ''}" for key in runs}
    lines += harness.idle_warnings({names[key]: these for key, these in runs.items()},
                                   {name for name, w in stalls.items() if w})
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
