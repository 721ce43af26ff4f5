"""Asynchronous (Event) invocations under load: accept rate, drain rate and the gateway's memory.

    python benchmarks/async_load.py [--events 10000] [--threads 8] [--server hypercorn|uvicorn]

Starts one gateway (``python -m gateway serve``, a child process on ephemeral ports) with one
in-process function that sleeps ``--sleep-ms`` and appends its request id to a file, the Lambda
Invoke API and the admin listener. Then, from ``--threads`` client threads (one keep-alive httpx connection each):

1. the baseline: ``--events`` synchronous RequestResponse invokes (the same function, same clients);
2. ``--rounds`` times (default 2): ``--events`` Event invokes, each answered 202 once it is stored
   in the durable queue (gateway/queue.py) while the queue drains in the background, then waiting
   until the queue is empty (admin ``GET /queue``);
3. checking that every request id is in the file.

Prints the accept rate (202s per second), the drain rate (events run per second, from the first
Event to the last one run) and both as ratios of the baseline's invokes per second, and the
gateway's RSS sampled every 0.1 s (peak per phase): a queue that keeps its backlog in SQLite, with a
bounded number of workers, stays flat however deep the backlog, and the second round's peak shows
that nothing accumulates from one backlog to the next.
Exit status 1 if any Event was not answered 202 or any event was not processed.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import harness
import httpx
from harness import BenchError, Children

HANDLER = '''\
import time


def handler(event, context):
    time.sleep(event["sleep_ms"] / 1000)
    with open(event["file"], "a") as out:
        out.write(context.aws_request_id + "\\n")
    return {"ok": True}
'''


def gateway_config(code: Path, work: Path, lambda_port: int, admin_port: int) -> str:
    return "\n".join([
        "[gateway]", "access_log = false", f"data_dir = {harness.toml_str(str(work / 'state'))}", "",
        "[functions.sink]", 'handler = "load_handler.handler"', f"code_uri = {harness.toml_str(str(code))}",
        'isolation = "inprocess"', "", "[lambda_api]", f'listen = "127.0.0.1:{lambda_port}"', "",
        "[admin]", f'listen = "127.0.0.1:{admin_port}"', "",
    ])


class RssSampler:
    """The gateway's resident set size (Linux /proc), sampled in a thread; peaks per named phase."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid = pid
        self.interval = interval
        self.phase = "start"
        self.peaks: dict[str, int] = {}
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss_kb(self) -> int | None:
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except (OSError, ValueError):
            pass
        return None

    def breakdown(self) -> str:
        """VmRSS split as the kernel reports it (RssAnon: heap; RssFile/RssShmem: mapped files, SQLite's
        WAL index among them), now."""
        try:
            fields = dict(line.split(":", 1) for line in Path(f"/proc/{self.pid}/status").read_text().splitlines()
                          if line.startswith(("RssAnon", "RssFile", "RssShmem")))
        except (OSError, ValueError):
            return "-"
        return ", ".join(f"{name} {int(value.split()[0]) / 1024:.1f} MB" for name, value in fields.items())

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = self.rss_kb()
            if rss is not None:
                self.peaks[self.phase] = max(self.peaks.get(self.phase, 0), rss)
                self.samples += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def spread(count: int, threads: int, job: Callable[[httpx.Client, int], int]) -> tuple[float, list[int]]:
    """Run ``job(client, index)`` ``count`` times from ``threads`` threads; (seconds, statuses)."""

    def worker(part: range) -> list[int]:
        with httpx.Client(timeout=60.0) as client:
            return [job(client, index) for index in part]

    parts = [range(start, count, threads) for start in range(threads)]
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        statuses = [status for chunk in pool.map(worker, parts) for status in chunk]
    return time.perf_counter() - started, statuses


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000, help="Event invocations (and baseline invokes)")
    parser.add_argument("--threads", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--sleep-ms", type=float, default=2.0,
                        help="the function's own time per invocation (default 2 ms: an in-process function runs "
                             "one at a time, so Events arrive faster than they run and a backlog builds)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="Event rounds (default 2: memory after the second shows whether it stays flat)")
    parser.add_argument("--server", choices=("hypercorn", "uvicorn"), default="hypercorn")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the queue to drain")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (config, queue, server log)")
    args = parser.parse_args(argv)
    if args.events < 1 or args.threads < 1 or args.rounds < 1:
        parser.error("--events, --threads and --rounds must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    return harness.run("async_load", parse_args(argv), bench, cpus=False)


@dataclass
class Round:
    """One Event round: accept ``events`` Events, then wait for the queue to run them all."""

    accept_seconds: float = 0.0
    drain_seconds: float = 0.0
    accepted: int = 0
    backlog: dict[str, int] = field(default_factory=dict)


def bench(args: argparse.Namespace, work: Path, children: Children) -> int:
    code = work / "code"  # the handler apart from the server's logs
    code.mkdir()
    (code / "load_handler.py").write_text(HANDLER)
    lambda_port, admin_port = harness.free_ports(2)
    config = work / "gateway.toml"
    config.write_text(gateway_config(code, work, lambda_port, admin_port))
    gateway = children.start("gateway", harness.gateway_argv(config, args.server), work, cwd=harness.REPO)
    admin = f"http://127.0.0.1:{admin_port}"
    harness.wait_ready(gateway, f"{admin}/queue")
    invoke_url = f"http://127.0.0.1:{lambda_port}/2015-03-31/functions/sink/invocations"
    sync_file, event_file = work / "sync.txt", work / "events.txt"
    sync_body = json.dumps({"file": str(sync_file), "sleep_ms": args.sleep_ms}).encode()
    event_body = json.dumps({"file": str(event_file), "sleep_ms": args.sleep_ms}).encode()

    def sync_call(client: httpx.Client, index: int) -> int:
        return client.post(invoke_url, content=sync_body).status_code

    def event_call(client: httpx.Client, index: int) -> int:
        return client.post(invoke_url, content=event_body, headers={"X-Amz-Invocation-Type": "Event"}).status_code

    poller = httpx.Client(timeout=30.0)  # one connection for every status poll

    def queue_total() -> dict[str, int]:
        return dict(json.loads(poller.get(f"{admin}/queue").content)["total"])

    print(harness.machine_info("wrk").split("\n")[0])
    print(f"server {args.server}; {args.events} invocations per phase from {args.threads} client threads; "
          f"an in-process function taking {args.sleep_ms:g} ms; {args.rounds} Event rounds\n")
    rounds: list[Round] = []
    with RssSampler(gateway.pid) as rss:
        rss.phase = "idle"
        time.sleep(0.5)
        idle_split = rss.breakdown()
        rss.phase = "baseline"
        harness.progress(f"baseline: {args.events} RequestResponse invokes ...")
        sync_seconds, sync_statuses = spread(args.events, args.threads, sync_call)
        if any(status != 200 for status in sync_statuses):
            raise BenchError(f"baseline: {sum(s != 200 for s in sync_statuses)} invokes not answered 200")
        for number in range(1, args.rounds + 1):
            one = Round()
            rss.phase = f"accept {number}"
            harness.progress(f"round {number}: {args.events} Event invokes ...")
            started = time.perf_counter()
            one.accept_seconds, statuses = spread(args.events, args.threads, event_call)
            one.accepted = sum(status == 202 for status in statuses)
            one.backlog = queue_total()
            rss.phase = f"drain {number}"
            deadline = time.monotonic() + args.timeout
            while (total := queue_total())["queued"] + total["in_flight"]:
                if time.monotonic() > deadline or not gateway.alive():
                    raise BenchError(f"the queue did not drain within {args.timeout:g} s: {total}\n"
                                     f"{gateway.log_tail()}")
                time.sleep(0.05)
            one.drain_seconds = time.perf_counter() - started
            rounds.append(one)
        rss.phase = "after"
        time.sleep(0.5)
        after_split = rss.breakdown()
    poller.close()
    ran = event_file.read_text().split() if event_file.exists() else []
    expected = args.events * args.rounds
    accepted = sum(one.accepted for one in rounds)
    print(report(args, sync_seconds, rounds, rss))
    print(f"gateway RSS idle: {idle_split}; after the run: {after_split}")
    verdict = "all" if accepted == expected else f"ONLY {accepted} of"
    print(f"{verdict} {expected} Event invocations answered 202")
    processed = len(set(ran))
    verdict = "all" if processed == expected else f"ONLY {processed} of"
    print(f"{verdict} {expected} events processed ({len(ran) - processed} ran twice); queue: "
          f"{total['delivered']} delivered, {total['failed']} failed")
    return 0 if accepted == expected and processed == expected else 1


def report(args: argparse.Namespace, sync_seconds: float, rounds: list[Round], rss: RssSampler) -> str:
    sync_rate = args.events / sync_seconds
    rows = [["RequestResponse invokes (baseline)", f"{sync_rate:.0f}/s", "1.00", f"{sync_seconds:.2f}"]]
    notes = []
    for number, one in enumerate(rounds, 1):
        accept_rate = args.events / one.accept_seconds
        drain_rate = args.events / one.drain_seconds
        rows.append([f"round {number}: Events answered 202 (accept)", f"{accept_rate:.0f}/s",
                     f"{accept_rate / sync_rate:.2f}", f"{one.accept_seconds:.2f}"])
        rows.append([f"round {number}: first Event to last run (drain)", f"{drain_rate:.0f}/s",
                     f"{drain_rate / sync_rate:.2f}", f"{one.drain_seconds:.2f}"])
        left = one.backlog["queued"] + one.backlog["in_flight"]
        if left and one.drain_seconds > one.accept_seconds:
            # The backlog alone, once no more Events arrive: the queue's own pace against the same invokes.
            rest = left / (one.drain_seconds - one.accept_seconds)
            rows.append([f"round {number}: backlog after the last 202", f"{rest:.0f}/s", f"{rest / sync_rate:.2f}",
                         f"{one.drain_seconds - one.accept_seconds:.2f}"])
        notes.append(f"round {number}: {one.backlog['queued']} queued, {one.backlog['in_flight']} in flight "
                     "when the last Event was answered")
    peaks = {phase: f"{kb / 1024:.1f}" for phase, kb in rss.peaks.items()}
    memory = ", ".join(f"{phase} {mb}" for phase, mb in peaks.items() if phase != "start")
    return "\n".join([harness.table(["phase", "rate", "x baseline", "seconds"], rows), "", *notes,
                      f"gateway RSS, MB (peak per phase, {rss.samples} samples every {rss.interval:g} s): {memory}"])


if __name__ == "__main__":
    sys.exit(main())
