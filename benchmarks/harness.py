"""What throughput.py and routing_scale.py share: child servers, readiness, wrk runs, tables.

Plain stdlib plus httpx (for readiness checks only). The load generator is wrk, driven with one
thread and a small Lua script whose ``done()`` hook prints exact figures as one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

WRK_MISSING = """\
wrk (the load generator) is not installed or not on PATH.
  Debian/Ubuntu:  apt-get install -y wrk   (run apt-get update first on a fresh machine)
  macOS:          brew install wrk
  elsewhere:      build it from https://github.com/wg/wrk and put it on PATH, or pass --wrk PATH"""

# wrk's done() hook: exact figures as one JSON line (latencies in microseconds).
WRK_LUA = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK-JSON {\"requests\":%d,\"duration_us\":%d,\"bytes\":%d,"
    .. "\"connect\":%d,\"read\":%d,\"write\":%d,\"status\":%d,\"timeout\":%d,"
    .. "\"p50_us\":%d,\"p90_us\":%d,\"p99_us\":%d,\"max_us\":%d,\"mean_us\":%.1f}\n",
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
"""


class BenchError(Exception):
    """A benchmark cannot go on (a server did not start, wrk failed, a wrong answer)."""


# --- child processes -----------------------------------------------------------------------------


class Child:
    """A server process in its own session, its stdout and stderr in files (never an undrained pipe)."""

    def __init__(self, name: str, argv: Sequence[str], workdir: Path, *, cwd: Path | None = None) -> None:
        self.name = name
        self.argv = list(argv)
        self.out_path = workdir / f"{name}.out.log"
        self.err_path = workdir / f"{name}.err.log"
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                cwd=cwd or workdir, env=env, start_new_session=True,
            )
        self.started = time.monotonic()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, grace: float = 5.0) -> None:
        if self.proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.proc.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def log_tail(self, lines: int = 30) -> str:
        parts = []
        for path in (self.out_path, self.err_path):
            try:
                text = path.read_text(errors="replace").splitlines()[-lines:]
            except OSError:
                continue
            if text:
                parts.append(f"--- {path.name} (last {len(text)} lines)\n" + "\n".join(text))
        return "\n".join(parts) or "(no output)"


class Children:
    """Starts children and always stops them: on return, exception, Ctrl-C, SIGTERM or SIGHUP."""

    def __init__(self) -> None:
        self.children: list[Child] = []

    def start(self, name: str, argv: Sequence[str], workdir: Path, *, cwd: Path | None = None) -> Child:
        child = Child(name, argv, workdir, cwd=cwd)
        self.children.append(child)
        return child

    def stop_all(self) -> None:
        for child in reversed(self.children):
            child.stop()
        self.children.clear()

    def __enter__(self) -> Children:
        def on_signal(signum: int, frame: types.FrameType | None) -> None:
            raise SystemExit(128 + signum)

        self._previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGHUP)}
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.stop_all()
        finally:
            for sig, handler in self._previous.items():
                signal.signal(sig, handler)


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct ephemeral ports, all held open at once while they are picked."""
    socks = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((host, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def wait_ready(child: Child, url: str, *, timeout: float = 60.0) -> httpx.Response:
    """Poll ``url`` until it answers (any status); fail early if the child dies."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if not child.alive():
            raise BenchError(f"{child.name} exited with status {child.proc.returncode} before answering "
                             f"{url}\n{child.log_tail()}")
        try:
            return httpx.get(url, timeout=5.0)
        except httpx.TransportError as exc:
            last = repr(exc)
        time.sleep(0.1)
    raise BenchError(f"{child.name} did not answer {url} within {timeout:g} s ({last})\n{child.log_tail()}")


def sequential_latency_ms(url: str, requests: int = 15) -> float:
    """Median latency of one request at a time over one keep-alive connection: a few ms at most, unless
    the server stalls each response (~40 ms: Nagle's algorithm meeting the client's delayed ACK)."""
    times = []
    with httpx.Client(timeout=5.0) as client:
        client.get(url)
        for _ in range(requests):
            t0 = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


STALL_MS = 30.0


def stall_warning(name: str, latency_ms: float) -> str | None:
    if latency_ms < STALL_MS:
        return None
    return (f"WARNING: {name}: one request at a time takes {latency_ms:.0f} ms (median): each response stalls "
            "~40 ms, the signature of Nagle's algorithm meeting delayed ACKs (TCP_NODELAY off on the server's "
            "sockets); its req/s are capped near connections / 40 ms whatever its CPU cost: compare 'CPU us/req'")


def expect(response: httpx.Response, status: int, body: bytes, what: str) -> None:
    if response.status_code != status or response.content != body:
        raise BenchError(
            f"{what}: expected {status} {body!r}, got {response.status_code} {response.content[:500]!r}\n"
            f"headers: {dict(response.headers)}"
        )


# --- wrk --------------------------------------------------------------------------------------------


def find_wrk(explicit: str | None = None) -> str:
    path = explicit or shutil.which("wrk")
    if not path or not os.access(path, os.X_OK):
        raise BenchError(WRK_MISSING)
    return path


@dataclass(frozen=True, slots=True)
class Run:
    """One wrk run against one target."""

    target: str
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    requests: int
    socket_errors: int
    non_2xx: int
    server_cpu: float | None  # percent of one core over the run
    wrk_cpu: float | None
    cpu_us_per_request: float | None  # the server's CPU time per request (robust to CPU contention)

    def line(self) -> str:
        cpu = ""
        if self.server_cpu is not None and self.wrk_cpu is not None and self.cpu_us_per_request is not None:
            cpu = (f"  cpu server {self.server_cpu:3.0f}% wrk {self.wrk_cpu:3.0f}%  "
                   f"{self.cpu_us_per_request:4.0f} us cpu/req")
        errors = ""
        if self.socket_errors or self.non_2xx:
            errors = f"  ERRORS socket {self.socket_errors} non-2xx {self.non_2xx}"
        return (f"{self.target:<22} {self.rps:9.0f} req/s  p50 {self.p50_ms:6.2f} ms  "
                f"p99 {self.p99_ms:6.2f} ms{cpu}{errors}")


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process and all its threads (Linux /proc); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


@dataclass
class Wrk:
    """Runs wrk with fixed settings: one thread, ``connections`` keep-alive connections."""

    path: str
    lua: Path
    connections: int
    threads: int = 1
    timeout_s: int = 5
    extra: list[str] = field(default_factory=list)

    @classmethod
    def create(cls, workdir: Path, connections: int, wrk: str | None = None) -> Wrk:
        lua = workdir / "report.lua"
        lua.write_text(WRK_LUA)
        return cls(path=find_wrk(wrk), lua=lua, connections=connections)

    def run(self, target: str, url: str, duration: float, server: Child | None = None) -> Run:
        argv = [
            self.path, f"-t{self.threads}", f"-c{self.connections}", f"-d{max(1, round(duration))}s",
            f"--timeout={self.timeout_s}s", "-s", str(self.lua), *self.extra, url,
        ]
        usage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        server0 = _cpu_seconds(server.pid) if server else None
        wall0 = time.monotonic()
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60, check=False)
        except subprocess.TimeoutExpired as exc:
            raise BenchError(f"wrk did not finish: {' '.join(argv)}") from exc
        wall = time.monotonic() - wall0
        usage1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        server1 = _cpu_seconds(server.pid) if server else None
        report = next((line[9:] for line in done.stdout.splitlines() if line.startswith("WRK-JSON ")), None)
        if done.returncode != 0 or report is None:
            raise BenchError(f"wrk failed ({done.returncode}): {' '.join(argv)}\n{done.stdout}\n{done.stderr}")
        data = json.loads(report)
        seconds = data["duration_us"] / 1e6
        wrk_cpu = (usage1.ru_utime + usage1.ru_stime - usage0.ru_utime - usage0.ru_stime) / wall * 100
        server_cpu = cpu_per_request = None
        if server0 is not None and server1 is not None:
            server_cpu = (server1 - server0) / wall * 100
            cpu_per_request = (server1 - server0) / data["requests"] * 1e6 if data["requests"] else None
        return Run(
            target=target,
            rps=data["requests"] / seconds if seconds else 0.0,
            p50_ms=data["p50_us"] / 1000,
            p90_ms=data["p90_us"] / 1000,
            p99_ms=data["p99_us"] / 1000,
            requests=data["requests"],
            socket_errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
            non_2xx=data["status"],
            server_cpu=server_cpu,
            wrk_cpu=wrk_cpu,
            cpu_us_per_request=cpu_per_request,
        )


# --- figures and tables ----------------------------------------------------------------------------


def idle_warnings(groups: dict[str, list[Run]], stalled: Collection[str] = ()) -> list[str]:
    """Targets whose server was not busy, for a reason other than a stall already reported."""
    lines = []
    for name, runs in groups.items():
        busy = median_or_none([r.server_cpu for r in runs])
        if busy is None or busy >= 85 or name in stalled:
            continue
        lines.append(f"WARNING: {name}: the server got only {busy:.0f}% of a core (median): other processes "
                     "compete for the CPUs; req/s ratios are noisy, the 'by CPU' ratios less so")
    return lines


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def median_or_none(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain table; the first column is left-aligned, the others right-aligned."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def fmt(row: Sequence[str]) -> str:
        pairs = enumerate(zip(row, widths, strict=True))
        cells = [str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in pairs]
        return "  ".join(cells).rstrip()

    lines = [fmt(header), "  ".join("-" * w for w in widths)]
    lines += [fmt(r) for r in rows]
    return "\n".join(lines)


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


def num(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(wrk: str) -> str:
    try:
        wrk_version = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False).stdout
        wrk_version = (wrk_version.split("[")[0].strip() or "wrk").replace("wrk ", "")
    except OSError:
        wrk_version = "?"
    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    extras = []
    for dist in ("uvloop", "httptools"):
        if _version(dist) != "not installed":
            extras.append(f"{dist} {_version(dist)}")
    return (
        f"machine: {os.cpu_count()} CPUs ({_cpu_model()}), {platform.system()} {platform.release()}, "
        f"load average {load}\n"
        f"python {platform.python_version()}, hypercorn {_version('hypercorn')}, uvicorn {_version('uvicorn')}"
        f"{', ' + ', '.join(extras) if extras else ''}, starlette {_version('starlette')}, "
        f"lambda-gateway {_version('lambda-gateway')}, wrk {wrk_version}"
    )


def check_cpus(connections: int) -> None:
    cpus = os.cpu_count() or 1
    if cpus < 2:
        print("warning: 1 CPU: wrk and the server share it; figures are only comparable within this run",
              file=sys.stderr)
    if connections < 1:
        raise BenchError("--connections must be at least 1")


@contextmanager
def workdir(keep: bool) -> Iterator[Path]:
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="gateway-bench-"))
    try:
        yield path
    finally:
        if keep:
            print(f"kept {path}", file=sys.stderr)
        else:
            shutil.rmtree(path, ignore_errors=True)


def toml_str(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def gateway_argv(config: Path, server: str) -> list[str]:
    # --no-reload: the servers' logs are written beside the generated handler, and hot reload would
    # retire the environments every time they change.
    return [PYTHON, "-m", "gateway", "serve", "--config", str(config), "--server", server,
            "--no-access-log", "--log-level", "warning", "--no-reload"]


def check_server_available(server: str) -> None:
    if server == "uvicorn" and _version("uvicorn") == "not installed":
        raise BenchError("uvicorn is not installed: pip install 'lambda-gateway[fast]'")


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def wrk_parser(doc: str | None, *, rounds: int, rounds_help: str, keep: str) -> argparse.ArgumentParser:
    """The options every wrk-driven script has: server, duration, rounds, connections, warm-up, wrk, keep."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", choices=("hypercorn", "uvicorn"), default="hypercorn")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measured run (default 10)")
    parser.add_argument("--rounds", type=int, default=rounds, help=f"{rounds_help} (default {rounds})")
    parser.add_argument("--connections", type=int, default=32, help="wrk keep-alive connections (default 32)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up per target (default 3)")
    parser.add_argument("--wrk", help="path to wrk (default: wrk on PATH)")
    parser.add_argument("--keep", action="store_true", help=f"keep the temp dir ({keep})")
    return parser


def parse_checked(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """Parse; --rounds and --duration must be at least 1."""
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.duration < 1:
        parser.error("--rounds and --duration must be at least 1")
    return args


def run(name: str, args: Any, bench: Callable[[Any, Path, Children], int], *, cpus: bool = True) -> int:
    """A benchmark script's main: the checks, a work dir and its child servers, errors as one line."""
    try:
        check_server_available(args.server)
        if cpus:
            check_cpus(args.connections)
        with workdir(args.keep) as work, Children() as children:
            return bench(args, work, children)
    except BenchError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{name}: interrupted; servers stopped", file=sys.stderr)
        return 130
