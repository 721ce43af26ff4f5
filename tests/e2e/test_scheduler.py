"""Scheduled invocations (gateway/scheduler.py): the timer on an injected clock, a real gateway's
admin endpoints running a rule into a real function, and `gateway serve --no-schedules`."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from gateway.config import GatewayConfig
from gateway.scheduler import Rule, Scheduler
from gateway.schedules import next_fire, parse_schedule
from gateway.testing import RunningGateway, start_gateway
from tests.e2e.conftest import write_project

RECORDER = '''
import json, os

def handler(event, context):
    with open(os.environ["RECORD_TO"], "a") as out:
        out.write(json.dumps({"event": event, "request_id": context.aws_request_id}) + "\\n")
    return None
'''


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# -- the timer, driven by an injected clock ------------------------------------------------------

class Clock:
    """A clock whose sleep moves time on at once (``jump`` adds extra time to the next sleep)."""

    def __init__(self, start: datetime) -> None:
        self.time = start
        self.sleeps: list[float] = []
        self.jump = timedelta(0)

    def now(self) -> datetime:
        return self.time

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.time += timedelta(seconds=seconds) + self.jump
        self.jump = timedelta(0)
        await asyncio.sleep(0)


class Recorder:
    """An Enqueuer that keeps what it is given, with the clock's time."""

    def __init__(self, clock: Clock, until: int) -> None:
        self.clock = clock
        self.until = until
        self.calls: list[dict[str, Any]] = []
        self.done = asyncio.Event()

    def enqueue(self, reference: str, payload: bytes, *, request_id: str, trace_id: str | None = None,
                      client_context: str | None = None) -> None:
        self.calls.append({"at": self.clock.now(), "function": reference, "event": json.loads(payload),
                           "request_id": request_id, "trace_id": trace_id, "client_context": client_context})
        if len(self.calls) >= self.until:
            self.done.set()


def rule(name: str, expression: str, function: str = "app", **more: Any) -> Rule:
    return Rule(name=name, arn=f"arn:aws:events:eu-west-1:210987654321:rule/{name}", function=function,
                expression=expression, schedule=parse_schedule(expression), **more)


def run_timer(rules: list[Rule], clock: Clock, until: int) -> tuple[Recorder, Scheduler]:
    recorder = Recorder(clock, until)
    scheduler = Scheduler(rules, recorder, region="eu-west-1", account_id="210987654321",
                          now=clock.now, sleep=clock.sleep)

    async def main() -> None:
        scheduler.start()
        await asyncio.wait_for(recorder.done.wait(), 10)
        await scheduler.aclose()

    asyncio.run(main())
    return recorder, scheduler


def test_timer_fires_each_rule_at_its_times() -> None:
    clock = Clock(at("2026-01-01T11:58:30"))
    rules = [rule("every2", "rate(2 minutes)"), rule("every3", "cron(0/3 * * * ? *)", function="other"),
             rule("off", "rate(1 minute)", enabled=False)]
    recorder, scheduler = run_timer(rules, clock, until=6)
    # (the timer may fire more before the test stops it: the first six are compared)
    fired = [(c["at"], c["function"], c["event"]["resources"][0].rsplit("/", 1)[1], c["event"]["time"])
             for c in recorder.calls[:6]]
    assert fired == [
        (at("2026-01-01T12:00:00"), "other", "every3", "2026-01-01T12:00:00Z"),
        (at("2026-01-01T12:00:30"), "app", "every2", "2026-01-01T12:00:30Z"),  # counted from the start
        (at("2026-01-01T12:02:30"), "app", "every2", "2026-01-01T12:02:30Z"),
        (at("2026-01-01T12:03:00"), "other", "every3", "2026-01-01T12:03:00Z"),
        (at("2026-01-01T12:04:30"), "app", "every2", "2026-01-01T12:04:30Z"),
        (at("2026-01-01T12:06:00"), "other", "every3", "2026-01-01T12:06:00Z"),
    ]
    # At most a minute asleep at once, so that a wall clock that is set is followed.
    assert clock.sleeps[:10] == [60, 30, 30, 60, 60, 30, 60, 30, 60, 30]
    assert scheduler.started_at == at("2026-01-01T11:58:30")
    event = recorder.calls[0]["event"]
    assert list(event) == ["version", "id", "detail-type", "source", "account", "time", "region", "resources",
                           "detail"]
    assert (event["version"], event["detail-type"], event["source"], event["account"], event["region"],
            event["resources"], event["detail"]) == (
        "0", "Scheduled Event", "aws.events", "210987654321", "eu-west-1",
        ["arn:aws:events:eu-west-1:210987654321:rule/every3"], {})
    ids = [c["event"]["id"] for c in recorder.calls] + [c["request_id"] for c in recorder.calls]
    assert len(set(ids)) == 2 * len(recorder.calls) and all(uuid.UUID(i).version == 4 for i in ids)
    assert all(re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}", c["trace_id"]) for c in recorder.calls)
    assert {c["client_context"] for c in recorder.calls} == {None}
    EventBridgeModel.model_validate(event)


def test_a_late_timer_fires_once_and_does_not_backfill() -> None:
    clock = Clock(at("2026-01-01T12:00:00"))
    clock.jump = timedelta(minutes=9)  # the first sleep (60 s) ends at 12:10: nine fires were missed
    recorder, _ = run_timer([rule("minutely", "rate(1 minute)")], clock, until=2)
    assert [(c["at"], c["event"]["time"]) for c in recorder.calls[:2]] == [
        (at("2026-01-01T12:10:00"), "2026-01-01T12:01:00Z"),
        (at("2026-01-01T12:11:00"), "2026-01-01T12:11:00Z"),
    ]


def test_input_replaces_the_event() -> None:
    clock = Clock(at("2026-01-01T00:00:00"))
    recorder, _ = run_timer([rule("custom", "cron(30 0 * * ? *)", input='{"job": "nightly", "n": [1, 2]}')],
                            clock, until=1)
    assert recorder.calls[0]["event"] == {"job": "nightly", "n": [1, 2]}
    assert recorder.calls[0]["at"] == at("2026-01-01T00:30:00")


# -- a real gateway: GET /schedules, POST /schedules/<rule> ---------------------------------------

@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningGateway, Path]]:
    base = tmp_path_factory.mktemp("scheduled")
    (base / "fn").mkdir()
    (base / "fn" / "recorder.py").write_text(RECORDER)
    record = base / "events.jsonl"
    fn = {"handler": "recorder.handler", "code_uri": str(base / "fn"), "isolation": "inprocess",
          "environment": {"RECORD_TO": str(record)}}
    config = GatewayConfig.from_mapping({
        "gateway": {"access_log": False, "region": "eu-west-1", "account_id": "210987654321"},
        "functions": {"app": {**fn, "schedule": [
            "cron(0 12 * * ? *)",
            {"expression": "rate(7 days)", "name": "weekly", "input": '{"report": "weekly"}'},
            {"expression": "rate(1 minute)", "name": "paused", "enabled": False, "description": "by hand only"},
        ]}},
        "admin": {"listen": "127.0.0.1:0"},
        "http_apis": [{"name": "web", "listen": "127.0.0.1:0", "routes": [{"route": "GET /x", "function": "app"}]}],
    }, base_dir=base)
    with start_gateway(config, log=lambda name, entry: None) as running:
        yield running, record


def _records(path: Path, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        lines = path.read_text().splitlines() if path.exists() else []
        if len(lines) >= count:
            return [json.loads(line) for line in lines]
        time.sleep(0.02)
    raise AssertionError(f"{count} invocations expected in {path}")


def test_admin_runs_a_rule_now(gateway: tuple[RunningGateway, Path]) -> None:
    running, record = gateway
    before = len(record.read_text().splitlines()) if record.exists() else 0
    answer = httpx.post(running.urls["admin"] + "schedules/app-schedule-1", timeout=10)
    assert answer.status_code == 202
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert sorted(body) == ["id", "requestId", "rule", "time"]
    assert body["rule"] == "app-schedule-1"
    recorded = _records(record, before + 1)[before]
    assert recorded["request_id"] == body["requestId"]
    event = recorded["event"]
    assert event == {
        "version": "0",
        "id": body["id"],
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "210987654321",
        "time": body["time"],
        "region": "eu-west-1",
        "resources": ["arn:aws:events:eu-west-1:210987654321:rule/app-schedule-1"],
        "detail": {},
    }
    assert list(event) == ["version", "id", "detail-type", "source", "account", "time", "region", "resources",
                           "detail"]
    assert uuid.UUID(event["id"]).version == 4
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"])
    model = EventBridgeModel.model_validate(event)
    assert (model.source, model.detail_type) == ("aws.events", "Scheduled Event")


def test_admin_runs_a_rule_with_input_and_a_disabled_one(gateway: tuple[RunningGateway, Path]) -> None:
    running, record = gateway
    before = len(record.read_text().splitlines()) if record.exists() else 0
    weekly = httpx.post(running.urls["admin"] + "schedules/weekly", timeout=10)
    assert weekly.status_code == 202
    records = _records(record, before + 1)
    assert records[before] == {"event": {"report": "weekly"}, "request_id": weekly.json()["requestId"]}
    # A disabled rule has no timer, but can be run by hand.
    paused = httpx.post(running.urls["admin"] + "schedules/paused", timeout=10)
    assert paused.status_code == 202
    records = _records(record, before + 2)
    assert records[before + 1]["event"]["resources"] == ["arn:aws:events:eu-west-1:210987654321:rule/paused"]


def test_admin_lists_the_schedules(gateway: tuple[RunningGateway, Path]) -> None:
    running, _ = gateway
    now = datetime.now(UTC)
    answer = httpx.get(running.urls["admin"] + "schedules", timeout=10)
    assert answer.status_code == 200
    body = answer.json()
    assert body["running"] is True
    first, weekly, paused = body["schedules"]
    noon = next_fire("cron(0 12 * * ? *)", now - timedelta(seconds=5)), next_fire("cron(0 12 * * ? *)", now)
    assert first == {
        "name": "app-schedule-1", "arn": "arn:aws:events:eu-west-1:210987654321:rule/app-schedule-1",
        "function": "app", "expression": "cron(0 12 * * ? *)", "enabled": True, "input": None,
        "description": "", "nextFire": first["nextFire"],
    }
    assert first["nextFire"] in {n.strftime("%Y-%m-%dT%H:%M:%SZ") for n in noon if n is not None}
    assert (weekly["name"], weekly["input"], weekly["enabled"]) == ("weekly", '{"report": "weekly"}', True)
    next_week = datetime.strptime(weekly["nextFire"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert timedelta(days=6) < next_week - now <= timedelta(days=7)
    assert (paused["name"], paused["enabled"], paused["nextFire"], paused["description"]) == (
        "paused", False, None, "by hand only")


def test_admin_schedule_paths_and_methods(gateway: tuple[RunningGateway, Path]) -> None:
    running, _ = gateway
    with httpx.Client(timeout=10) as client:
        unknown = client.post(running.urls["admin"] + "schedules/nope")
        wrong = client.get(running.urls["admin"] + "schedules/weekly")
        listed = client.post(running.urls["admin"] + "schedules")
    assert (unknown.status_code, unknown.text) == (404, "Not Found\n")
    assert (wrong.status_code, wrong.headers["allow"]) == (405, "POST")
    assert (listed.status_code, listed.headers["allow"]) == (405, "GET")


# -- the command line: the start-up lines and --no-schedules ---------------------------------------

def _serve(tmp_path: Path, *flags: str) -> tuple[subprocess.Popen[str], list[str], str]:
    config = write_project(tmp_path, {"recorder": RECORDER}, '''
        [functions.app]
        handler = "recorder.handler"
        code_uri = "fn"
        schedule = ["rate(1 hour)", "cron(0 0 1 1 ? 2199)"]

        [admin]
        listen = "127.0.0.1:0"
    ''')
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "serve", "--config", str(config), *flags],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    lines: list[str] = []
    admin = ""
    while len([line for line in lines if line.startswith("schedule ")]) < 2:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        found = re.match(r"^admin\s+admin\s+(http://\S+)", line)
        admin = found.group(1) if found else admin
    return proc, [line for line in lines if line.startswith("schedule ")], admin


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    proc.wait(15)


def _listed(admin: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        try:
            return dict(httpx.get(admin + "schedules", timeout=5).json())
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_serve_prints_schedules_and_runs_the_timer(tmp_path: Path) -> None:
    proc, lines, admin = _serve(tmp_path)
    try:
        assert [re.sub(r"next 20[0-8]\d-\S+Z", "next T", line) for line in lines] == [
            "schedule app-schedule-1: rate(1 hour) -> app (next T)",
            "schedule app-schedule-2: cron(0 0 1 1 ? 2199) -> app (next 2199-01-01T00:00:00Z)",
        ]
        listed = _listed(admin)
        assert listed["running"] is True
        assert [s["nextFire"] for s in listed["schedules"]][1] == "2199-01-01T00:00:00Z"
    finally:
        _stop(proc)


def test_no_schedules_turns_the_timer_off(tmp_path: Path) -> None:
    proc, lines, admin = _serve(tmp_path, "--no-schedules")
    try:
        assert [re.sub(r"next 20[0-8]\d-\S+Z", "next T", line) for line in lines] == [
            "schedule app-schedule-1: rate(1 hour) -> app (next T) [timer off]",
            "schedule app-schedule-2: cron(0 0 1 1 ? 2199) -> app (next 2199-01-01T00:00:00Z) [timer off]",
        ]
        listed = _listed(admin)
        assert listed["running"] is False
        assert [s["nextFire"] for s in listed["schedules"]] == [None, None]
        # Still runnable by hand.
        assert httpx.post(admin + "schedules/app-schedule-1", timeout=10).status_code == 202
    finally:
        _stop(proc)
