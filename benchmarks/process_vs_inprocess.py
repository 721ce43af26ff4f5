"""Warm throughput of process environments against in-process ones, same server, same run.

    python benchmarks/process_vs_inprocess.py [--server hypercorn|uvicorn] [--duration S] [--rounds N]
                                              [--connections C]

Starts one gateway (``python -m gateway serve``, access log off) with two functions running the
same trivial handler, one with ``isolation = "process"`` and one with ``isolation = "inprocess"``,
behind one HTTP API (``GET /process/{id}``, ``GET /inprocess/{id}``). Each target gets a warm-up
run (for process isolation it also starts the environments: up to C, one per concurrent
request), then for each round the two run back to back with wrk (1 thread, C keep-alive
connections), their order alternating. Each pair gives a ratio process/in-process req/s; the
table shows medians. The issue's target: process >= 0.6 of in-process.

The CPU columns count the gateway process only: the environments' own CPU time is not in them.
Needs wrk (see benchmarks/README.md); reuses harness.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import harness
from harness import Children, Run, Wrk

HANDLER = '''\
def handler(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": '{"ok":true}'}
'''
BODY = b'{"ok":true}'
KINDS = ("process", "inprocess")
TARGET = 0.6


def gateway_config(directory: Path, port: int) -> str:
    parts = ["[gateway]", "access_log = false", ""]
    for kind in KINDS:
        parts += [f"[functions.{kind}]", 'handler = "bench_handler.handler"',
                  f"code_uri = {harness.toml_str(str(directory))}", f'isolation = "{kind}"', "timeout = 30", ""]
    routes = ", ".join(f'{{ route = "GET /{kind}/{{id}}", function = "{kind}" }}' for kind in KINDS)
    parts += ["[[http_apis]]", 'name = "bench"', f'listen = "127.0.0.1:{port}"', f"routes = [ {routes} ]"]
    return "\n".join(parts) + "\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = harness.wrk_parser(__doc__, rounds=3, rounds_help="process/in-process pairs",
                                keep="config, handler, server log")
    return harness.parse_checked(parser, argv)


def main(argv: list[str] | None = None) -> int:
    return harness.run("process_vs_inprocess", parse_args(argv), bench)


def bench(args: argparse.Namespace, work: Path, children: Children) -> int:
    wrk = Wrk.create(work, args.connections, args.wrk)
    print(harness.machine_info(wrk.path))
    print(f"server {args.server}; wrk 1 thread, {args.connections} connections; {args.rounds} rounds x "
          f"{args.duration:g} s per target, warm-up {args.warmup:g} s\n", flush=True)
    code = work / "code"  # not the work dir: the server's logs there would trigger hot reload
    code.mkdir()
    (code / "bench_handler.py").write_text(HANDLER)
    (port,) = harness.free_ports(1)
    config = work / "gateway.toml"
    config.write_text(gateway_config(code, port))
    gateway = children.start("gateway", harness.gateway_argv(config, args.server), work, cwd=harness.REPO)
    urls = {kind: f"http://127.0.0.1:{port}/{kind}/42" for kind in KINDS}
    for kind, url in urls.items():
        harness.expect(harness.wait_ready(gateway, url), 200, BODY, f"{kind} at {url}")
    for kind, url in urls.items():
        harness.progress("warm-up  " + wrk.run(kind, url, args.warmup, gateway).line())
    runs: dict[str, list[Run]] = {kind: [] for kind in KINDS}
    ratios: list[float] = []
    for rnd in range(args.rounds):
        order = list(KINDS) if rnd % 2 == 0 else list(reversed(KINDS))
        got = {}
        for kind in order:
            got[kind] = wrk.run(kind, urls[kind], args.duration, gateway)
            harness.progress(f"round {rnd + 1}/{args.rounds}  {got[kind].line()}")
            runs[kind].append(got[kind])
        ratios.append(got["process"].rps / got["inprocess"].rps)
    print()
    print(report(args.server, runs, ratios))
    return 0


def report(server: str, runs: dict[str, list[Run]], ratios: list[float]) -> str:
    header = ["isolation", "req/s", "p50 ms", "p99 ms", "process/in-process", "(min-max)", "gateway CPU us/req",
              "errors"]
    rows = []
    for kind, kind_runs in runs.items():
        ratio_text = f"{harness.median(ratios):.2f}" if kind == "process" else "1.00"
        spread = f"{min(ratios):.2f}-{max(ratios):.2f}" if kind == "process" else ""
        rows.append([kind, f"{harness.median([r.rps for r in kind_runs]):.0f}",
                     f"{harness.median([r.p50_ms for r in kind_runs]):.2f}",
                     f"{harness.median([r.p99_ms for r in kind_runs]):.2f}", ratio_text, spread,
                     harness.num(harness.median_or_none([r.cpu_us_per_request for r in kind_runs])),
                     str(sum(r.socket_errors + r.non_2xx for r in kind_runs))])
    ratio = harness.median(ratios)
    lines = [f"server {server}: medians over {len(ratios)} rounds; process/in-process = median of per-pair "
             "req/s ratios", "", harness.table(header, rows), "",
             f"target process >= {TARGET:.1f} x in-process: {'met' if ratio >= TARGET else 'NOT met'} ({ratio:.2f})"]
    if any(r.socket_errors or r.non_2xx for kind_runs in runs.values() for r in kind_runs):
        lines.append("WARNING: some runs had socket errors or non-2xx answers; their figures are suspect")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
