"""Proxy overhead: a distribution with no hooks in front of a bare upstream, against that upstream, in one run.

    python benchmarks/proxy_overhead.py [--server hypercorn|uvicorn] [--duration S] [--rounds N] [--connections C]

Two child processes: the bare upstream ([bare_app.py](bare_app.py): a Starlette app answering
``GET /items/{id}`` with ``{"ok":true}``, served like the gateway serves) and a gateway (``python -m
gateway serve``, access log off) with one ``[[distributions]]`` whose only behavior sends everything to
that upstream, with no function associations and no cache policy (CloudFront's CachingDisabled):
every request is proxied over httpx.

Targets, driven by wrk in turn (the order alternates per round), same connections and duration:
``direct`` (wrk straight to the upstream) and ``proxy`` (wrk to the distribution). Figures: req/s,
latency, and CPU time per request: for ``proxy`` the gateway's own and the total with the upstream's
(both processes work for each proxied request). Ratios proxy/direct (median over rounds): by req/s,
and by CPU (direct's CPU per request over the proxy's total), which holds up better when other
processes compete for the CPUs. The issue's target: proxy >= 0.7 of direct throughput.

On a machine with few cores the req/s ratio is bounded by sharing: wrk, the gateway and the upstream
all need CPU at once for the proxy target, while only wrk and the upstream do for direct.

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
TARGET = 0.7  # the issue: proxy >= 0.7 of direct throughput


def gateway_config(upstream: int, proxied: int) -> str:
    return "\n".join([
        "[gateway]", "access_log = false", "",
        "[[distributions]]", 'name = "bench-proxy"', f'listen = "127.0.0.1:{proxied}"',
        f'origins = [ {{ id = "up", url = "http://127.0.0.1:{upstream}" }} ]',
        'behaviors = [ { path = "*", origin = "up" } ]',
    ]) + "\n"


@dataclass(frozen=True, slots=True)
class Measured:
    run: Run
    upstream_us: float | None  # the upstream's CPU per request during a proxy run

    @property
    def total_us(self) -> float | None:
        own = self.run.cpu_us_per_request
        if own is None:
            return None
        return own + (self.upstream_us or 0.0)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = harness.wrk_parser(__doc__, rounds=3, rounds_help="direct/proxy pairs",
                                keep="config, server logs")
    return harness.parse_checked(parser, argv)


def main(argv: list[str] | None = None) -> int:
    return harness.run("proxy_overhead", parse_args(argv), bench)


def measure(wrk: Wrk, name: str, url: str, duration: float, server: Child, upstream: Child | None) -> Measured:
    """One wrk run; with ``upstream``, that process's CPU time over the run is counted too."""
    before = harness._cpu_seconds(upstream.pid) if upstream else None
    run = wrk.run(name, url, duration, server)
    after = harness._cpu_seconds(upstream.pid) if upstream else None
    upstream_us = None
    if before is not None and after is not None and run.requests:
        upstream_us = (after - before) / run.requests * 1e6
    return Measured(run, upstream_us)


def bench(args: argparse.Namespace, work: Path, children: Children) -> int:
    wrk = Wrk.create(work, args.connections, args.wrk)
    print(harness.machine_info(wrk.path))
    print(f"server {args.server}; wrk 1 thread, {args.connections} connections; {args.rounds} rounds x "
          f"{args.duration:g} s per target, warm-up {args.warmup:g} s\n", flush=True)
    upstream_port, proxied_port = harness.free_ports(2)
    config = work / "gateway.toml"
    config.write_text(gateway_config(upstream_port, proxied_port))
    upstream = children.start("upstream", [harness.PYTHON, str(Path(__file__).with_name("bare_app.py")),
                                           "--server", args.server, "--port", str(upstream_port)], work)
    gateway = children.start("gateway", harness.gateway_argv(config, args.server), work, cwd=harness.REPO)
    direct_url = f"http://127.0.0.1:{upstream_port}/items/42"
    proxy_url = f"http://127.0.0.1:{proxied_port}/items/42"
    harness.expect(harness.wait_ready(upstream, direct_url), 200, BODY, f"direct at {direct_url}")
    answer = harness.wait_ready(gateway, proxy_url)
    harness.expect(answer, 200, BODY, f"proxy at {proxy_url}")
    if answer.headers.get("x-cache") != "Miss from cloudfront":
        raise harness.BenchError(f"the proxy target is not proxied: X-Cache {answer.headers.get('x-cache')!r}")
    latency = {"direct": harness.sequential_latency_ms(direct_url), "proxy": harness.sequential_latency_ms(proxy_url)}
    harness.progress("both targets answer 200 {\"ok\":true}; one request at a time: "
                     + ", ".join(f"{name} {ms:.1f} ms" for name, ms in latency.items()))
    harness.progress("warm-up  " + wrk.run("direct", direct_url, args.warmup, upstream).line())
    harness.progress("warm-up  " + wrk.run("proxy", proxy_url, args.warmup, gateway).line())

    direct_runs: list[Measured] = []
    proxy_runs: list[Measured] = []
    ratios: list[float] = []
    cpu_ratios: list[float] = []
    for rnd in range(args.rounds):
        order = ["direct", "proxy"] if rnd % 2 == 0 else ["proxy", "direct"]
        got: dict[str, Measured] = {}
        for name in order:
            if name == "direct":
                got[name] = measure(wrk, name, direct_url, args.duration, upstream, None)
            else:
                got[name] = measure(wrk, name, proxy_url, args.duration, gateway, upstream)
            extra = ""
            if got[name].upstream_us is not None:
                extra = f"  + upstream {got[name].upstream_us:4.0f} us cpu/req"
            harness.progress(f"round {rnd + 1}/{args.rounds}  {got[name].run.line()}{extra}")
        direct_runs.append(got["direct"])
        proxy_runs.append(got["proxy"])
        ratios.append(got["proxy"].run.rps / got["direct"].run.rps)
        direct_us, proxy_us = got["direct"].run.cpu_us_per_request, got["proxy"].total_us
        if direct_us and proxy_us:
            cpu_ratios.append(direct_us / proxy_us)
    print()
    print(report(args.server, direct_runs, proxy_runs, ratios, cpu_ratios, latency))
    return 0


def report(server: str, direct: list[Measured], proxy: list[Measured], ratios: list[float],
           cpu_ratios: list[float], latency: dict[str, float]) -> str:
    header = ["target", "req/s", "p50 ms", "p99 ms", "x direct", "(min-max)", "CPU us/req", "+upstream",
              "total", "by CPU", "server CPU", "errors"]
    rows = []
    for name, runs in (("direct", direct), ("proxy", proxy)):
        own = harness.median_or_none([m.run.cpu_us_per_request for m in runs])
        is_proxy = name == "proxy"
        rows.append([
            name, f"{harness.median([m.run.rps for m in runs]):.0f}",
            f"{harness.median([m.run.p50_ms for m in runs]):.2f}",
            f"{harness.median([m.run.p99_ms for m in runs]):.2f}",
            f"{harness.median(ratios):.2f}" if is_proxy else "1.00",
            f"{min(ratios):.2f}-{max(ratios):.2f}" if is_proxy else "",
            harness.num(own),
            harness.num(harness.median_or_none([m.upstream_us for m in runs])) if is_proxy else "",
            harness.num(harness.median_or_none([m.total_us for m in runs])) if is_proxy else harness.num(own),
            (f"{harness.median(cpu_ratios):.2f}" if cpu_ratios else "-") if is_proxy else "1.00",
            harness.pct(harness.median_or_none([m.run.server_cpu for m in runs])),
            str(sum(m.run.socket_errors + m.run.non_2xx for m in runs)),
        ])
    ratio = harness.median(ratios)
    lines = [f"server {server}: medians over {len(direct)} rounds; x direct = median of per-round req/s ratios "
             "proxy/direct; CPU us/req = the target server's own; +upstream = the upstream's CPU per proxied "
             "request; by CPU = direct's CPU per request / the proxy's total", "",
             harness.table(header, rows), "",
             f"target proxy >= {TARGET:.2f} of direct throughput: {'met' if ratio >= TARGET else 'NOT met'} "
             f"({ratio:.2f}; by CPU {harness.median(cpu_ratios):.2f})" if cpu_ratios else
             f"target proxy >= {TARGET:.2f} of direct throughput: {'met' if ratio >= TARGET else 'NOT met'} "
             f"({ratio:.2f})"]
    if any(m.run.socket_errors or m.run.non_2xx for m in (*direct, *proxy)):
        lines.append("WARNING: some runs had socket errors or non-2xx answers; their figures are suspect")
    stalls = {name: harness.stall_warning(name, ms) for name, ms in latency.items()}
    lines += [w for w in stalls.values() if w]
    lines += harness.idle_warnings({"direct": [m.run for m in direct], "proxy": [m.run for m in proxy]},
                                   {name for name, w in stalls.items() if w})
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
