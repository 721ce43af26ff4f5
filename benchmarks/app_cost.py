"""Where a request's CPU goes: the server's share and the app's, for bare Starlette and the gateway.

    python benchmarks/app_cost.py [--server hypercorn|uvicorn] [--requests N] [--rounds N] [--no-server]

throughput.py compares whole servers. This script splits the cost. In this process, with no server
and no sockets, it calls each ASGI app directly from 32 concurrent callers (as wrk's 32 connections
would) and measures the process's CPU time per request: bare Starlette ([bare_app.py](bare_app.py)),
then the gateway's app with the trivial in-process handler behind each front (the config of
throughput.py; function logs go to /dev/null through the same batched writer as under
``gateway serve``). Rounds alternate bare and gateway; the table shows medians.

Then (unless ``--no-server``) it serves bare Starlette with the server as a child process and drives
it with wrk to get the server's CPU per request for the whole request. The server's own share is that
minus bare Starlette's app cost, and the budget of an app that is to reach a gateway/bare ratio R is
``bare_total / R - server_share``: what the issue's target (HTTP API >= 0.8 with hypercorn) leaves
the gateway's own work.

Needs wrk for the server part: apt-get install -y wrk (Debian/Ubuntu), brew install wrk (macOS).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import harness
import throughput
from harness import Children, Wrk

Scope = dict[str, Any]
App = Callable[..., Any]
TARGET = 0.8


def scope_for(url_path: str, port: int) -> Scope:
    path = url_path.encode()
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
            "scheme": "http", "path": url_path, "raw_path": path, "query_string": b"", "root_path": "",
            "headers": [(b"Host", f"127.0.0.1:{port}".encode()), (b"User-Agent", b"wrk")],
            "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", port), "extensions": {}}


async def cpu_per_request(app: App, scope: Scope, requests: int, callers: int) -> float:
    """CPU microseconds per request of ``callers`` concurrent loops of ``requests`` calls each."""
    answered: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answered.append(message["status"])

    async def caller() -> None:
        for _ in range(requests):
            await app(scope, receive, send)

    started = time.process_time()
    await asyncio.gather(*(caller() for _ in range(callers)))
    spent = time.process_time() - started
    if set(answered) != {200}:
        raise harness.BenchError(f"{scope['path']}: statuses {sorted(set(answered))}, expected only 200")
    return spent / (requests * callers) * 1e6


async def measure_apps(work: Path, args: argparse.Namespace) -> dict[str, list[float]]:
    sys.path.insert(0, str(Path(__file__).parent))
    import bare_app

    from gateway.app import create_app
    from gateway.config import load_config
    from gateway.functions import FunctionsService
    from gateway.functions.logs import LoopWriter

    fronts = list(throughput.FRONTS)
    ports = dict(zip(fronts, range(3000, 3000 + len(fronts)), strict=True))
    (work / "bench_handler.py").write_text(throughput.HANDLER)
    config_path = work / "gateway.toml"
    config_path.write_text(throughput.gateway_config(work, ports, fronts))
    config = load_config(str(config_path))
    devnull = open(os.devnull, "w")  # noqa: SIM115 - open for the whole run
    output = LoopWriter(lambda: devnull)
    output.attach(asyncio.get_running_loop())
    functions = FunctionsService(config.functions, config.gateway,
                                 log=lambda name, entry: output.write(f"{name} | {entry}\n"))
    app = create_app(config, functions)
    for _cfg, front in app.fronts:
        app.bind("127.0.0.1", ports[front.kind + "s"], front)  # http_api -> the http_apis section's port
    targets: dict[str, tuple[App, Scope]] = {"bare starlette": (bare_app.app, scope_for("/items/42", 8000))}
    for name in fronts:
        url = throughput.front_url(name, ports[name])
        targets[f"gateway {name}"] = (app, scope_for(url.split(str(ports[name]), 1)[1], ports[name]))
    results: dict[str, list[float]] = {name: [] for name in targets}
    try:
        for target_app, scope in targets.values():  # warm-up: imports, INIT, caches
            await cpu_per_request(target_app, scope, max(10, args.requests // 10), args.callers)
        for rnd in range(args.rounds):
            for name, (target_app, scope) in targets.items():
                results[name].append(await cpu_per_request(target_app, scope, args.requests, args.callers))
                harness.progress(f"round {rnd + 1}/{args.rounds}  {name:<24} {results[name][-1]:7.1f} us CPU/request")
    finally:
        await functions.aclose()
        output.detach()
        devnull.close()
    return results


def bench(args: argparse.Namespace, work: Path, children: Children) -> int:
    print(f"{args.callers} concurrent callers x {args.requests} requests, {args.rounds} rounds, in this process\n",
          flush=True)
    apps = asyncio.run(measure_apps(work, args))
    bare_app_us = harness.median(apps["bare starlette"])
    rows = [[name, f"{harness.median(v):.1f}", f"{min(v):.1f}-{max(v):.1f}",
             f"{harness.median(v) - bare_app_us:+.1f}" if name != "bare starlette" else ""]
            for name, v in apps.items()]
    print(harness.table(["app (no server)", "CPU us/req", "(min-max)", "vs bare app"], rows))
    if args.no_server:
        return 0
    wrk = Wrk.create(work, args.connections, args.wrk)
    port = harness.free_ports(1)[0]
    server = children.start("bare", [harness.PYTHON, str(Path(__file__).with_name("bare_app.py")),
                                     "--server", args.server, "--port", str(port)], work)
    url = f"http://127.0.0.1:{port}/items/42"
    harness.expect(harness.wait_ready(server, url), 200, throughput.BODY, f"bare starlette at {url}")
    harness.progress("warm-up  " + wrk.run("bare", url, args.warmup, server).line())
    runs = [wrk.run("bare", url, args.duration, server) for _ in range(args.rounds)]
    for run in runs:
        harness.progress(run.line())
    totals = [r.cpu_us_per_request for r in runs if r.cpu_us_per_request]
    if not totals:
        raise harness.BenchError("the server's CPU time could not be read (no /proc?)")
    bare_total = harness.median(totals)
    server_share = bare_total - bare_app_us
    budget = bare_total / TARGET - server_share
    gateway = harness.median(apps["gateway http_apis"])
    print(f"\n{args.server} serving bare starlette: {bare_total:.0f} us CPU/request in all; the app's "
          f"{bare_app_us:.1f}, so the server's own share is {server_share:.0f} us ({server_share / bare_total:.0%})")
    print(f"gateway/bare >= {TARGET} leaves the gateway's app {budget:.0f} us CPU/request; "
          f"the HTTP API front's app takes {gateway:.0f} us, which predicts a ratio of at most "
          f"{bare_total / (server_share + gateway):.2f}")
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = harness.wrk_parser(__doc__, rounds=3, rounds_help="rounds (apps, and wrk runs of the server)",
                                keep="config and handler")
    parser.add_argument("--requests", type=int, default=300, help="requests per caller per round (default 300)")
    parser.add_argument("--callers", type=int, default=32, help="concurrent callers (default 32)")
    parser.add_argument("--no-server", action="store_true", help="only the in-process part (no wrk)")
    args = harness.parse_checked(parser, argv)
    if args.requests < 1 or args.callers < 1:
        parser.error("--requests and --callers must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return harness.run("app_cost", args, bench, cpus=not args.no_server)


if __name__ == "__main__":
    sys.exit(main())
