"""Gateway throughput against a bare Starlette app on the same server, measured in the same run.

    python benchmarks/throughput.py [--server hypercorn|uvicorn] [--duration S] [--rounds N] [--connections C]

Starts, as child processes on ephemeral 127.0.0.1 ports:
  * bare: a Starlette app answering GET /items/{id} with {"ok":true} (benchmarks/bare_app.py),
  * the gateway (``python -m gateway serve``, access log off) with a trivial handler returning the same
    body, behind each front: http_apis (GET /items/{id}), rest_apis (stage in the URL), albs (rule
    /items/*) and function_urls,
then drives each with wrk (1 thread, C keep-alive connections; a warm-up run per target first) and,
for each round and each front, runs bare and that front back to back (their order alternating).
Each pair gives a ratio front/bare; the table shows medians over the rounds. ``--baseline sync``
makes the bare endpoint a plain def run in Starlette's thread pool (a thread hop per request, as the
gateway's in-process functions have); the issue's baseline is the default, async.

Needs wrk: apt-get install -y wrk (Debian/Ubuntu), brew install wrk (macOS).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import harness
from harness import Child, Children, Run, Wrk

FRONTS = ("http_apis", "rest_apis", "albs", "function_urls")
HANDLER = '''\
def handler(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": '{"ok":true}'}
'''
BODY = b'{"ok":true}'
STAGE = "bench"
# The targets (gateway/bare req/s); the issue sets one for the HTTP API under hypercorn.
TARGETS = {"http_apis": 0.8}
BARE = {"async": "bare starlette", "sync": "bare starlette (sync)"}


def gateway_config(directory: Path, ports: dict[str, int], fronts: list[str], isolation: str = "inprocess") -> str:
    parts = [
        "[gateway]",
        "access_log = false",
        "",
        "[functions.bench]",
        'handler = "bench_handler.handler"',
        f"code_uri = {harness.toml_str(str(directory))}",
        "timeout = 30",
        f'isolation = "{isolation}"',
    ]
    if "http_apis" in fronts:
        parts += ["", "[[http_apis]]", 'name = "bench-http"', f'listen = "127.0.0.1:{ports["http_apis"]}"',
                  'routes = [ { route = "GET /items/{id}", function = "bench" } ]']
    if "rest_apis" in fronts:
        parts += ["", "[[rest_apis]]", 'name = "bench-rest"', f'listen = "127.0.0.1:{ports["rest_apis"]}"',
                  f'stage = "{STAGE}"',
                  'routes = [ { method = "GET", path = "/items/{id}", function = "bench" } ]']
    if "albs" in fronts:
        parts += ["", "[[albs]]", 'name = "bench-alb"', f'listen = "127.0.0.1:{ports["albs"]}"',
                  'rules = [ { priority = 10, path = "/items/*", function = "bench" } ]']
    if "function_urls" in fronts:
        parts += ["", "[[function_urls]]", 'function = "bench"', f'listen = "127.0.0.1:{ports["function_urls"]}"']
    return "\n".join(parts) + "\n"


def front_url(front: str, port: int) -> str:
    prefix = f"/{STAGE}" if front == "rest_apis" else ""
    return f"http://127.0.0.1:{port}{prefix}/items/42"


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    url: str
    server: Child


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = harness.wrk_parser(__doc__, rounds=3, rounds_help="bare/front pairs per front",
                                keep="config, handler, server logs")
    parser.add_argument("--fronts", default=",".join(FRONTS),
                        help=f"comma-separated subset of {','.join(FRONTS)} (default: all)")
    parser.add_argument("--baseline", choices=("async", "sync"), default="async",
                        help="the bare app's endpoint: async def (default; the issue's baseline) or a plain def "
                             "run in Starlette's thread pool (one thread hop per request, as the gateway has)")
    parser.add_argument("--isolation", choices=("inprocess", "process"), default="inprocess",
                        help="the trivial handler's isolation (default inprocess, the issue's measure)")
    args = parser.parse_args(argv)
    args.front_list = [f.strip() for f in args.fronts.split(",") if f.strip()]
    unknown = [f for f in args.front_list if f not in FRONTS]
    if unknown or not args.front_list:
        parser.error(f"--fronts: unknown {unknown}; choose from {', '.join(FRONTS)}")
    if args.rounds < 1 or args.duration < 1:
        parser.error("--rounds and --duration must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    return harness.run("throughput", parse_args(argv), bench)


def bench(args: argparse.Namespace, work: Path, children: Children) -> int:
    fronts: list[str] = args.front_list
    wrk = Wrk.create(work, args.connections, args.wrk)
    print(harness.machine_info(wrk.path))
    print(f"server {args.server}; wrk 1 thread, {args.connections} connections; {args.rounds} rounds x "
          f"{args.duration:g} s per target, warm-up {args.warmup:g} s\n", flush=True)

    (work / "bench_handler.py").write_text(HANDLER)
    ports = dict(zip(["bare", *fronts], harness.free_ports(len(fronts) + 1), strict=True))
    config = work / "gateway.toml"
    config.write_text(gateway_config(work, ports, fronts, args.isolation))

    sync = ["--sync"] if args.baseline == "sync" else []
    bare = children.start("bare", [harness.PYTHON, str(Path(__file__).with_name("bare_app.py")),
                                   "--server", args.server, "--port", str(ports["bare"]), *sync], work)
    gateway = children.start("gateway", harness.gateway_argv(config, args.server), work, cwd=harness.REPO)

    bare_target = Target(BARE[args.baseline], f"http://127.0.0.1:{ports['bare']}/items/42", bare)
    targets = {f: Target(f, front_url(f, ports[f]), gateway) for f in fronts}
    for target in [bare_target, *targets.values()]:
        response = harness.wait_ready(target.server, target.url)
        harness.expect(response, 200, BODY, f"{target.name} at {target.url}")
    latency = {t.name: harness.sequential_latency_ms(t.url) for t in [bare_target, *targets.values()]}
    harness.progress("all targets answer 200 {\"ok\":true}; one request at a time: "
                     + ", ".join(f"{name} {ms:.1f} ms" for name, ms in latency.items()))
    harness.progress("warming up")

    for target in [bare_target, *targets.values()]:
        harness.progress("warm-up  " + wrk.run(target.name, target.url, args.warmup, target.server).line())

    bare_runs: list[Run] = []
    front_runs: dict[str, list[Run]] = {f: [] for f in fronts}
    ratios: dict[str, list[float]] = {f: [] for f in fronts}
    cpu_ratios: dict[str, list[float]] = {f: [] for f in fronts}
    for rnd in range(args.rounds):
        for index, front in enumerate(fronts):
            pair = [bare_target, targets[front]]
            if (rnd + index) % 2:
                pair.reverse()
            got: dict[str, Run] = {}
            for target in pair:
                run = wrk.run(target.name, target.url, args.duration, target.server)
                got[target.name] = run
                harness.progress(f"round {rnd + 1}/{args.rounds}  {run.line()}")
            bare_runs.append(got[bare_target.name])
            front_runs[front].append(got[front])
            ratios[front].append(got[front].rps / got[bare_target.name].rps)
            bare_cpu, front_cpu = got[bare_target.name].cpu_us_per_request, got[front].cpu_us_per_request
            if bare_cpu and front_cpu:
                cpu_ratios[front].append(bare_cpu / front_cpu)

    print()
    print(report(args.server, bare_target.name, bare_runs, front_runs, ratios, cpu_ratios, latency))
    return 0


def report(server: str, bare_name: str, bare_runs: list[Run], front_runs: dict[str, list[Run]],
           ratios: dict[str, list[float]], cpu_ratios: dict[str, list[float]], latency: dict[str, float]) -> str:
    header = ["target", "req/s", "p50 ms", "p99 ms", "gateway/bare", "(min-max)", "target",
              "CPU us/req", "by CPU", "server CPU", "wrk CPU", "errors"]

    def row(name: str, runs: list[Run], ratio: str, spread: str, goal: str, by_cpu: str) -> list[str]:
        errors = sum(r.socket_errors + r.non_2xx for r in runs)
        return [
            name,
            f"{harness.median([r.rps for r in runs]):.0f}",
            f"{harness.median([r.p50_ms for r in runs]):.2f}",
            f"{harness.median([r.p99_ms for r in runs]):.2f}",
            ratio, spread, goal,
            harness.num(harness.median_or_none([r.cpu_us_per_request for r in runs])),
            by_cpu,
            harness.pct(harness.median_or_none([r.server_cpu for r in runs])),
            harness.pct(harness.median_or_none([r.wrk_cpu for r in runs])),
            str(errors),
        ]

    rows = [row(bare_name, bare_runs, "1.00", "", "", "1.00")]
    verdicts = []
    for front, runs in front_runs.items():
        ratio = harness.median(ratios[front])
        goal = ""
        if front in TARGETS:
            goal = f">= {TARGETS[front]:.2f}"
            met = "met" if ratio >= TARGETS[front] else "NOT met"
            scope = "" if server == "hypercorn" else " (the issue sets it for hypercorn)"
            if bare_name != BARE["async"]:
                scope += " (the issue's baseline is the async endpoint)"
            verdicts.append(f"target {front} gateway/bare {goal}{scope}: {met} ({ratio:.2f})")
        by_cpu = f"{harness.median(cpu_ratios[front]):.2f}" if cpu_ratios[front] else "-"
        rows.append(row(f"gateway {front}", runs, f"{ratio:.2f}",
                        f"{min(ratios[front]):.2f}-{max(ratios[front]):.2f}", goal, by_cpu))
    rounds = len(next(iter(ratios.values())))
    lines = [f"server {server}: medians over {rounds} rounds (bare: all {len(bare_runs)} bare runs); "
             "gateway/bare = median of per-pair req/s ratios; by CPU = the same with the server's "
             "CPU time per request (bare/gateway)", "",
             harness.table(header, rows), "", *verdicts]
    if any(r.socket_errors or r.non_2xx for runs in [bare_runs, *front_runs.values()] for r in runs):
        lines.append("WARNING: some runs had socket errors or non-2xx answers; their figures are suspect")
    stalls = {name: harness.stall_warning(name, ms) for name, ms in latency.items()}
    lines += [w for w in stalls.values() if w]
    groups = {bare_name: bare_runs, **{f: runs for f, runs in front_runs.items()}}
    lines += harness.idle_warnings(groups, {name for name, w in stalls.items() if w})
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
