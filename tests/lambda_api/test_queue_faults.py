"""Fault tests of the durable async queue (gateway/queue.py) with the gateway as a real child process
(``python -m gateway serve``): SIGKILL with events queued and in flight, a clean restart, and the
load benchmark's small version. Every accepted (202) event must run at least once; the one in flight
when the gateway died may run twice, as on AWS."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.lambda_api.helpers import free_ports, wait_for

HANDLERS = Path(__file__).parent / "handlers"
REPO = Path(__file__).resolve().parents[2]


class Gateway:
    """``python -m gateway serve --config F --no-reload`` in its own session, output in a file."""

    def __init__(self, config: Path, lambda_port: int, admin_port: int) -> None:
        self.config = config
        self.lambda_url = f"http://127.0.0.1:{lambda_port}"
        self.admin_url = f"http://127.0.0.1:{admin_port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = config.parent / "gateway.log"

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gateway", "serve", "--config", str(self.config), "--no-reload"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=out, cwd=REPO, start_new_session=True)

        def ready() -> bool:
            assert self.proc is not None and self.proc.poll() is None, self.log.read_text()
            try:
                return httpx.get(f"{self.admin_url}/queue", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(ready, timeout=30)

    def status(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.admin_url}/queue", timeout=5).json())

    def event(self, client: httpx.Client, function: str, payload: Any) -> str:
        answer = client.post(f"{self.lambda_url}/2015-03-31/functions/{function}/invocations",
                             headers={"X-Amz-Invocation-Type": "Event"}, content=json.dumps(payload))
        assert (answer.status_code, answer.content) == (202, b"")
        return answer.headers["x-amzn-RequestId"]

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    lambda_port, admin_port = free_ports(2)
    config = tmp_path / "gateway.toml"
    config.write_text(f"""
[gateway]
access_log = false
retry_delay_scale = 0.001

[functions.slow]
handler = "queue_handlers.record"
code_uri = {json.dumps(str(HANDLERS))}
isolation = "inprocess"

[lambda_api]
listen = "127.0.0.1:{lambda_port}"

[admin]
listen = "127.0.0.1:{admin_port}"
""")
    running = Gateway(config, lambda_port, admin_port)
    try:
        yield running
    finally:
        running.stop()


def runs(path: Path) -> list[str]:
    return [json.loads(line)["request_id"] for line in path.read_text().splitlines()] if path.exists() else []


def test_sigkill_with_events_queued_and_in_flight(gateway: Gateway, tmp_path: Path) -> None:
    out = tmp_path / "runs.jsonl"
    gateway.start()
    with httpx.Client(timeout=10) as client:
        accepted = [gateway.event(client, "slow", {"file": str(out), "n": n, "sleep": 0.25}) for n in range(12)]
    # An in-process function runs one at a time: the queue hands it two (one running, one waiting),
    # the others stay queued behind them.
    before = wait_for(lambda: (s := gateway.status())["functions"]["slow"]["in_flight"] == 2 and s)
    assert before["functions"]["slow"]["queued"] >= 8
    gateway.kill()
    done_before = runs(out)
    assert len(done_before) < 12
    assert (tmp_path / ".gateway" / "queue.sqlite3").exists()  # the default data_dir, beside the config

    gateway.start()
    wait_for(lambda: set(runs(out)) >= set(accepted))
    after = wait_for(lambda: (s := gateway.status())["total"]["queued"] + s["total"]["in_flight"] == 0 and s)
    ran = runs(out)
    assert set(ran) == set(accepted)  # every accepted event ran, and nothing else did
    # At least once: each event ran once, except the one in flight at the kill, which may run twice.
    assert len(ran) - len(set(ran)) <= 1
    assert after["functions"]["slow"]["delivered"] == 12 - len(done_before) + (len(ran) - len(set(ran)))


def test_a_clean_restart_keeps_queued_events(gateway: Gateway, tmp_path: Path) -> None:
    out = tmp_path / "runs.jsonl"
    gateway.start()
    with httpx.Client(timeout=10) as client:
        accepted = [gateway.event(client, "slow", {"file": str(out), "n": n, "sleep": 0.2}) for n in range(6)]
    gateway.stop()  # SIGTERM: the server stops; events not yet run stay stored
    assert len(runs(out)) < 6
    gateway.start()
    wait_for(lambda: set(runs(out)) == set(accepted))


def test_async_load_benchmark_small(tmp_path: Path) -> None:
    """benchmarks/async_load.py with 500 events: all answered 202 and all processed (its own checks)."""
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "async_load.py"), "--events", "500", "--threads", "4",
         "--rounds", "1"],
        capture_output=True, text=True, timeout=180, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all 500 Event invocations answered 202" in done.stdout
    assert "all 500 events processed" in done.stdout
