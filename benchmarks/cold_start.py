"""Cold start, request to response: process environments against in-process ones, in the same run.

    python benchmarks/cold_start.py [--functions N] [--server hypercorn|uvicorn]

Starts one gateway (``python -m gateway serve``, a child process on an ephemeral port) with 2 x N
functions that share one trivial handler: N with ``isolation = "process"``, N with ``isolation =
"inprocess"``, each behind its own HTTP API route (``GET /p<i>``, ``GET /i<i>``). Every function
gets exactly one request, so every request is a cold start: a new execution environment, the
handler's INIT, then the invocation. Requests alternate between the two kinds (the order swapping
each time) over one keep-alive connection; each is timed on the client from sending the request to
reading the whole response. One warm-up request per kind goes first (it starts the process
environments' template, once per gateway) and is not counted; a few warm requests after the cold
ones show what the cold start adds.

The issue's target: p50 <= 50 ms for a trivial Python handler (aim: <= 10 ms).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import harness
import httpx
from harness import Children

HANDLER = '''\
def handler(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "text/plain"}, "body": "cold"}
'''
KINDS = {"p": "process", "i": "inprocess"}
TARGET_MS, AIM_MS = 50.0, 10.0


def gateway_config(directory: Path, port: int, count: int) -> str:
    parts = ["[gateway]", "access_log = false", ""]
    routes = []
    for prefix, isolation in KINDS.items():
        for index in ["warm", *map(str, range(count))]:
            name = f"{prefix}{index}"
            parts += [f"[functions.{name}]", 'handler = "cold_handler.handler"',
                      f"code_uri = {harness.toml_str(str(directory))}", f'isolation = "{isolation}"', ""]
            routes.append(f'{{ route = "GET /{name}", function = "{name}" }}')
    parts += ["[[http_apis]]", 'name = "bench"', f'listen = "127.0.0.1:{port}"', "routes = ["]
    parts += [f"  {route}," for route in routes]
    return "\n".join([*parts, "]"]) + "\n"


def timed_get(client: httpx.Client, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    harness.expect(response, 200, b"cold", f"GET {path}")
    return elapsed


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--functions", type=int, default=100, help="cold starts per kind (default 100)")
    parser.add_argument("--server", choices=("hypercorn", "uvicorn"), default="hypercorn")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (config, handler, server log)")
    args = parser.parse_args(argv)
    if args.functions < 2:
        parser.error("--functions must be at least 2")
    return args


def main(argv: list[str] | None = None) -> int:
    return harness.run("cold_start", parse_args(argv), bench, cpus=False)


def bench(args: argparse.Namespace, work: Path, children: Children) -> int:
    code = work / "code"  # not the work dir: the server's logs there would trigger hot reload
    code.mkdir()
    (code / "cold_handler.py").write_text(HANDLER)
    (port,) = harness.free_ports(1)
    config = work / "gateway.toml"
    config.write_text(gateway_config(code, port, args.functions))
    gateway = children.start("gateway", harness.gateway_argv(config, args.server), work, cwd=harness.REPO)
    base = f"http://127.0.0.1:{port}"
    harness.wait_ready(gateway, f"{base}/nothing")
    print(harness.machine_info("wrk").split("\n")[0].replace(", wrk ?", ""))
    print(f"server {args.server}; {args.functions} cold starts per kind, alternating; one keep-alive connection\n")
    cold: dict[str, list[float]] = {prefix: [] for prefix in KINDS}
    warm: dict[str, list[float]] = {prefix: [] for prefix in KINDS}
    with httpx.Client(base_url=base, timeout=30.0) as client:
        first = {prefix: timed_get(client, f"/{prefix}warm") for prefix in KINDS}
        harness.progress("first requests (template start for process): " +
                         ", ".join(f"{KINDS[p]} {ms:.1f} ms" for p, ms in first.items()))
        for index in range(args.functions):
            order = list(KINDS) if index % 2 == 0 else list(reversed(KINDS))
            for prefix in order:
                cold[prefix].append(timed_get(client, f"/{prefix}{index}"))
        for index in range(min(args.functions, 50)):
            for prefix in KINDS:
                warm[prefix].append(timed_get(client, f"/{prefix}{index}"))
    print(report(cold, warm))
    return 0


def report(cold: dict[str, list[float]], warm: dict[str, list[float]]) -> str:
    header = ["isolation", "cold p50 ms", "cold p90 ms", "cold p99 ms", "cold max ms", "warm p50 ms", "cold starts"]
    rows = [[KINDS[prefix], f"{percentile(values, 0.5):.2f}", f"{percentile(values, 0.9):.2f}",
             f"{percentile(values, 0.99):.2f}", f"{max(values):.2f}", f"{percentile(warm[prefix], 0.5):.2f}",
             str(len(values))] for prefix, values in cold.items()]
    p50 = percentile(cold["p"], 0.5)
    verdict = "met" if p50 <= TARGET_MS else "NOT met"
    aim = "reached" if p50 <= AIM_MS else "not reached"
    return "\n".join([
        "request to response, measured on the client; every cold request is a function's first", "",
        harness.table(header, rows), "",
        f"target process cold start p50 <= {TARGET_MS:.0f} ms: {verdict} ({p50:.2f} ms); "
        f"aim <= {AIM_MS:.0f} ms: {aim}",
    ])


if __name__ == "__main__":
    sys.exit(main())
