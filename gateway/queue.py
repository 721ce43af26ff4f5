"""The durable asynchronous-invocation queue: Event invocations kept in SQLite, run with Lambda's retries.

``enqueue()`` commits the event to ``<data_dir>/queue.sqlite3`` (WAL, ``synchronous=NORMAL``: a
committed event survives the gateway being killed, SIGKILL included; an OS crash or power cut may
lose the last ones) before it returns, so the Invoke API answers 202 only for a stored event. The
directory and the database are made when the first event arrives (or found at start), so a gateway
that never gets an Event invocation writes nothing.

A dispatcher task pulls due events, per function, as the function's concurrency allows (its
``reserved_concurrency``, and at most ``DRAIN_CONCURRENCY`` events in flight in all, so a backlog of
10,000 events is 32 tasks, not 10,000), and calls ``functions.invoke()`` for each:

- success: the ``on_success`` destination gets a Success record;
- a function error (a timeout too): retried ``maximum_retry_attempts`` times after ~1 and ~2 minutes;
  then RetriesExhausted to ``on_failure`` and the event to ``dead_letter``;
- a throttle (``Throttled``) or a system error (another ``InvokeError``): back in the queue with
  exponential backoff (1 s doubling to 5 min), not counted as an attempt;
- older than ``maximum_event_age`` when its turn comes: EventAgeExceeded, as a failure.

Every delay and the maximum age are multiplied by ``[gateway] retry_delay_scale``. At start, events
that were in flight when the last run ended are queued again: at-least-once, as on AWS ("it's possible
for it to receive the same event from Lambda multiple times"). Record shapes: gateway/destinations.py.
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.config import Destination, FunctionConfig, GatewayConfig
from gateway.destinations import (
    EVENT_AGE_EXCEEDED,
    RETRIES_EXHAUSTED,
    SUCCESS,
    backoff_delay,
    dead_letter_attributes,
    destination_record,
    error_message,
    json_or_text,
    record_arn,
    retry_delay,
    sqs_event,
    sqs_message,
)
from gateway.errors import GatewayError, InvokeError, Throttled, UnknownFunction
from gateway.functions import FunctionsService
from gateway.functions.versions import function_arn, resolve, split_qualifier
from gateway.models import InvocationResult

log = logging.getLogger("gateway.queue")

#: Events in flight at once across all functions (each function: at most its reserved concurrency).
DRAIN_CONCURRENCY = 32
DB_NAME = "queue.sqlite3"
COUNTERS = ("retried", "throttled", "delivered", "failed", "dead_lettered", "discarded")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL,
    function TEXT NOT NULL,
    reference TEXT NOT NULL,
    payload BLOB NOT NULL,
    trace_id TEXT,
    client_context TEXT,
    accepted REAL NOT NULL,
    due REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0,
    throttles INTEGER NOT NULL DEFAULT 0,
    last_status INTEGER,
    last_version TEXT,
    last_error TEXT,
    last_response BLOB
);
CREATE INDEX IF NOT EXISTS events_due ON events (function, state, due);
"""
_COLUMNS = ("id, request_id, function, reference, payload, trace_id, client_context, accepted, attempts, "
            "throttles, last_status, last_version, last_error, last_response")


class QueueUnavailable(InvokeError):
    """The queue's database cannot be written: the Event invocation is refused (500 ServiceException)."""


@dataclass(slots=True)
class _Event:
    """One stored event, as a worker holds it."""

    id: int
    request_id: str
    function: str
    reference: str
    payload: bytes
    trace_id: str | None
    client_context: str | None
    accepted: float
    attempts: int
    throttles: int
    last_status: int | None
    last_version: str | None
    last_error: str | None
    last_response: bytes | None


class AsyncQueue:
    """Lambda's internal queue for asynchronous invocations, durable in SQLite (see the module docstring)."""

    def __init__(self, functions: FunctionsService, config: GatewayConfig, *,
                 clock: Callable[[], float] = time.time, workers: int = DRAIN_CONCURRENCY) -> None:
        settings = config.gateway
        self.functions = functions
        self.path: Path = config.base_dir / settings.data_dir / DB_NAME
        self.scale = settings.retry_delay_scale
        self.region, self.account_id = settings.region, settings.account_id
        self.workers = workers
        self._configs = functions.function_configs
        self._clock = clock
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()  # enqueue() may come from another thread (schedules)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._dispatcher: asyncio.Task[None] | None = None
        self._running: dict[int, asyncio.Task[None]] = {}
        self._running_by_function: Counter[str] = Counter()
        self._counts: dict[str, Counter[str]] = {name: Counter() for name in self._configs}

    # -- the public API ------------------------------------------------------------------------

    def enqueue(self, reference: str, payload: bytes, *, request_id: str, trace_id: str | None = None,
                client_context: str | None = None) -> None:
        """Store one Event invocation of ``reference`` (``app``, ``app:live``); committed on return.

        Raises UnknownFunction for a function that is not configured, QueueUnavailable when the
        database cannot be written."""
        function = split_qualifier(reference)[0]
        if function not in self._configs:
            raise UnknownFunction(f"Function not found: {function_arn(self.region, self.account_id, function)}")
        now = self._clock()
        try:
            with self._lock:
                db = self._open()
                with db:
                    db.execute(
                        "INSERT INTO events (request_id, function, reference, payload, trace_id, client_context, "
                        "accepted, due) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (request_id, function, reference, payload, trace_id, client_context, now, now))
        except (sqlite3.Error, OSError) as exc:
            raise QueueUnavailable(f"the async queue at {self.path} cannot store the event: {exc}") from exc
        self._notify()

    async def start(self) -> None:
        """Start draining. Events of an earlier run are found; those it had in flight are queued again."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        if self.path.exists():
            self._recover()
        self._dispatcher = self._loop.create_task(self._dispatch_loop(), name="async-queue")

    async def aclose(self) -> None:
        """Stop draining. Events in flight stay stored and run again at the next start."""
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            await asyncio.gather(self._dispatcher, return_exceptions=True)
            self._dispatcher = None
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        with self._lock:
            if self._db is not None:
                with self._db:
                    self._db.execute("UPDATE events SET state = 'queued' WHERE state = 'in_flight'")
                self._db.close()
                self._db = None

    def status(self) -> dict[str, Any]:
        """Counts per function and in total: queued and in_flight now; retried (after a function
        error), throttled (retries after a throttle or system error), delivered (succeeded), failed,
        dead_lettered and discarded (failed with neither on_failure nor dead_letter) since start."""
        stored: Counter[tuple[str, str]] = Counter()
        with self._lock:
            if self._db is not None:
                for function, state, count in self._db.execute(
                        "SELECT function, state, COUNT(*) FROM events GROUP BY function, state"):
                    stored[(function, state)] = count
        functions: dict[str, dict[str, int]] = {}
        for name in self._configs:
            entry = {"queued": stored[(name, "queued")], "in_flight": self._running_by_function[name]}
            entry.update({key: self._counts[name][key] for key in COUNTERS})
            functions[name] = entry
        total = {key: sum(entry[key] for entry in functions.values()) for key in ("queued", "in_flight", *COUNTERS)}
        return {"database": str(self.path) if self._db is not None else None, "total": total,
                "functions": functions}

    # -- storage --------------------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        """The database, made on first use (call with the lock held)."""
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # WAL: durable across a process kill
            db.executescript(_SCHEMA)
            self._db = db
        return self._db

    def _recover(self) -> None:
        with self._lock:
            db = self._open()
            with db:
                requeued = db.execute("UPDATE events SET state = 'queued' WHERE state = 'in_flight'").rowcount
                names = list(self._configs)
                marks = ",".join("?" * len(names))
                orphans = db.execute(f"SELECT request_id, reference FROM events WHERE function NOT IN ({marks})",
                                     names).fetchall()
                db.execute(f"DELETE FROM events WHERE function NOT IN ({marks})", names)
                stored = db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        for request_id, reference in orphans:
            log.warning("queue: discarded %s of %s: no such function in this config", request_id, reference)
        if stored:
            log.info("queue: %d stored events found in %s (%d were in flight when the last run ended)",
                     stored, self.path, requeued)

    def _write(self, sql: str, args: tuple[Any, ...]) -> None:
        with self._lock:
            db = self._open()
            with db:
                db.execute(sql, args)

    def _notify(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is None or wake is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            wake.set()
        else:
            loop.call_soon_threadsafe(wake.set)

    # -- dispatching ----------------------------------------------------------------------------

    async def _dispatch_loop(self) -> None:
        assert self._wake is not None
        while True:
            self._wake.clear()
            try:
                wait = self._dispatch()
            except sqlite3.Error:
                log.exception("queue: cannot read %s; trying again in 5 s", self.path)
                wait = 5.0
            if wait is None:
                await self._wake.wait()
            else:
                try:
                    await asyncio.wait_for(self._wake.wait(), wait)
                except TimeoutError:
                    pass

    def _capacity(self, fn: FunctionConfig) -> int:
        """Events of ``fn`` in flight at once: its reserved concurrency; an in-process function runs one
        invocation at a time, so two (one running, the next waiting at its invoker) keep it busy."""
        limit = self.workers
        if fn.isolation == "inprocess" and fn.endpoint is None:
            limit = min(limit, 2)
        reserved = fn.reserved_concurrency
        # Reserved concurrency 0: still tried, so that Lambda's throttle-and-age-out path applies.
        return limit if reserved is None else max(1, min(reserved, limit))

    def _dispatch(self) -> float | None:
        """Start every due event there is room for; seconds until the next one is due (None: wait to be woken)."""
        if self._db is None:
            return None
        now = self._clock()
        free = self.workers - len(self._running)
        waiting: list[str] = []
        for name, fn in self._configs.items():
            room = min(free, self._capacity(fn) - self._running_by_function[name])
            if room <= 0:
                continue
            with self._lock:
                db = self._open()
                rows = db.execute(
                    f"SELECT {_COLUMNS} FROM events WHERE function = ? AND state = 'queued' AND due <= ? "
                    "ORDER BY due, id LIMIT ?", (name, now, room)).fetchall()
                if rows:
                    with db:
                        db.executemany("UPDATE events SET state = 'in_flight' WHERE id = ?", [(r[0],) for r in rows])
            for row in rows:
                self._start(_Event(*row))
            free -= len(rows)
            if len(rows) < room:
                waiting.append(name)
        if not waiting:
            return None
        with self._lock:
            marks = ",".join("?" * len(waiting))
            (due,) = self._open().execute(
                f"SELECT MIN(due) FROM events WHERE state = 'queued' AND function IN ({marks})", waiting).fetchone()
        return None if due is None else max(0.0, due - now)

    def _start(self, event: _Event) -> None:
        assert self._loop is not None
        task = self._loop.create_task(self._process(event))
        self._running[event.id] = task
        self._running_by_function[event.function] += 1

    async def _process(self, event: _Event) -> None:
        try:
            await self._attempt(event)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug must not lose the event: it stays stored and is tried again
            log.exception("queue: %s of %s", event.request_id, event.reference)
            self._write("UPDATE events SET state = 'queued', due = ? WHERE id = ?",
                        (self._clock() + backoff_delay(event.throttles + 1, self.scale), event.id))
        finally:
            self._running.pop(event.id, None)
            self._running_by_function[event.function] -= 1
            if self._wake is not None:
                self._wake.set()

    async def _attempt(self, event: _Event) -> None:
        """One try of one event, and what follows from its outcome."""
        fn = self._configs[event.function]
        if self._clock() - event.accepted > fn.maximum_event_age * self.scale:
            self._give_up(event, fn, EVENT_AGE_EXCEEDED)
            return
        try:
            result = await self.functions.invoke(event.reference, event.payload, request_id=event.request_id,
                                                 trace_id=event.trace_id, client_context=event.client_context)
        except UnknownFunction as exc:  # a qualifier the config no longer has
            self._finish(event, [])
            self._counts[event.function]["discarded"] += 1
            log.warning("queue: discarded %s of %s: %s", event.request_id, event.reference, exc)
            return
        except GatewayError as exc:  # a throttle or a system error: back to the queue, not an attempt
            self._back_off(event, exc)
            return
        event.attempts += 1
        if result.function_error is None:
            self._succeed(event, fn, result)
        elif event.attempts > fn.maximum_retry_attempts:
            self._remember(event, result)
            self._give_up(event, fn, RETRIES_EXHAUSTED)
        else:
            self._retry(event, fn, result)

    def _back_off(self, event: _Event, exc: GatewayError) -> None:
        event.throttles += 1
        delay = backoff_delay(event.throttles, self.scale)
        status = 429 if isinstance(exc, Throttled) else 500
        kind = "TooManyRequestsException" if status == 429 else "ServiceException"
        message = "Rate Exceeded." if status == 429 else str(exc)
        response = json.dumps({"errorMessage": message, "errorType": kind}).encode()
        self._write("UPDATE events SET state = 'queued', due = ?, throttles = ?, last_status = ?, last_response = ?, "
                    "last_error = NULL WHERE id = ?",
                    (self._due(event, delay), event.throttles, status, response, event.id))
        self._counts[event.function]["throttled"] += 1
        log.info("queue: %s of %s %s (%s); trying again in %.3g s", event.request_id, event.reference,
                 "throttled" if status == 429 else "not invoked", message, delay)

    def _due(self, event: _Event, delay: float) -> float:
        """When to try again: after ``delay``, but no later than the moment the event grows too old
        (so that a 5-minute backoff does not hold back its EventAgeExceeded record)."""
        too_old = event.accepted + self._configs[event.function].maximum_event_age * self.scale
        return min(self._clock() + delay, too_old + 0.001)

    def _remember(self, event: _Event, result: InvocationResult) -> None:
        event.last_status, event.last_version = 200, result.executed_version
        event.last_error, event.last_response = result.function_error, result.payload

    def _retry(self, event: _Event, fn: FunctionConfig, result: InvocationResult) -> None:
        self._remember(event, result)
        delay = retry_delay(event.attempts, self.scale)
        self._write("UPDATE events SET state = 'queued', due = ?, attempts = ?, throttles = 0, last_status = 200, "
                    "last_version = ?, last_error = ?, last_response = ? WHERE id = ?",
                    (self._due(event, delay), event.attempts, result.executed_version, result.function_error,
                     result.payload, event.id))
        self._counts[event.function]["retried"] += 1
        log.info("queue: retrying %s of %s in %.3g s after function error %s (attempt %d of %d)",
                 event.request_id, event.reference, delay, result.function_error, event.attempts,
                 fn.maximum_retry_attempts + 1)

    # -- outcomes -------------------------------------------------------------------------------

    def _record(self, event: _Event, condition: str, *, status: int, version: str, error: str | None,
                response: Any) -> dict[str, Any]:
        name, qualifier = split_qualifier(event.reference)
        return destination_record(
            now=self._clock(), request_id=event.request_id, condition=condition, invoke_count=event.attempts,
            function_arn=record_arn(function_arn(self.region, self.account_id, name), qualifier),
            request_payload=event.payload, status_code=status, executed_version=version, function_error=error,
            response_payload=response)

    def _succeed(self, event: _Event, fn: FunctionConfig, result: InvocationResult) -> None:
        deliveries = []
        if fn.on_success is not None:
            record = self._record(event, SUCCESS, status=200, version=result.executed_version, error=None,
                                  response=json_or_text(result.payload))
            deliveries.append((fn.on_success, record))
        self._finish(event, deliveries)
        self._counts[event.function]["delivered"] += 1
        log.info("queue: delivered %s to %s (attempt %d)", event.request_id, event.reference, event.attempts)

    def _give_up(self, event: _Event, fn: FunctionConfig, condition: str) -> None:
        """RetriesExhausted or EventAgeExceeded: the record to on_failure, the event to dead_letter.

        The response context is the last attempt's; an event that never ran (throttled to the end)
        gets statusCode 429 (500 after system errors) and the version it would have run [INF]."""
        status = event.last_status or 429
        version = event.last_version or _version(fn, event.reference)
        response = json_or_text(event.last_response) if event.last_response is not None else {
            "errorMessage": "Rate Exceeded.", "errorType": "TooManyRequestsException"}
        deliveries: list[tuple[Destination, dict[str, Any]]] = []
        if fn.on_failure is not None:
            deliveries.append((fn.on_failure, self._record(event, condition, status=status, version=version,
                                                           error=event.last_error, response=response)))
        if fn.dead_letter is not None:
            deliveries.append((fn.dead_letter, self._dead_letter(event, fn.dead_letter, status, response)))
        self._finish(event, deliveries)
        counts = self._counts[event.function]
        counts["failed"] += 1
        counts["dead_lettered"] += fn.dead_letter is not None
        counts["discarded"] += fn.on_failure is None and fn.dead_letter is None
        sent = [label for label, target in (("on_failure", fn.on_failure), ("dead_letter", fn.dead_letter)) if target]
        log.warning("queue: %s %s of %s after %d attempts (%s)", "dead-lettered" if sent else "discarded",
                    event.request_id, event.reference, event.attempts,
                    f"{condition}; sent to {' and '.join(sent)}" if sent else condition)

    def _dead_letter(self, event: _Event, target: Destination, status: int, response: Any) -> dict[str, Any]:
        """The original event with RequestID, ErrorCode and ErrorMessage: an SQS message for a file, the
        SQS event of that message for a function. ErrorCode is 200 after function errors (the Invoke
        status; the function error is in ErrorMessage) [INF], 429 after throttles."""
        body = event.payload.decode("utf-8", "replace")
        attributes = dead_letter_attributes(event.request_id, status, error_message(response))
        message_id = str(uuid.uuid4())
        if target.file is not None:
            return sqs_message(message_id, body, attributes)
        queue_arn = f"arn:aws:sqs:{self.region}:{self.account_id}:{event.function}-dlq"
        return sqs_event(message_id=message_id, body=body, attributes=attributes, queue_arn=queue_arn,
                         region=self.region, sent_ms=int(self._clock() * 1000))

    def _finish(self, event: _Event, deliveries: list[tuple[Destination, dict[str, Any]]]) -> None:
        """Deliver, then forget the event. Files are appended first and function destinations are queued
        in the same transaction that deletes the event: a crash in between repeats, never loses."""
        now = self._clock()
        queued = []
        for target, document in deliveries:
            data = json.dumps(document, separators=(",", ":"))
            if target.file is not None:
                try:
                    target.file.parent.mkdir(parents=True, exist_ok=True)
                    with target.file.open("a", encoding="utf-8") as out:
                        out.write(data + "\n")
                except OSError as exc:  # AWS counts a DestinationDeliveryFailures and drops the record
                    log.error("queue: cannot write %s's record to %s: %s", event.request_id, target.file, exc)
            elif target.function is not None:
                queued.append((str(uuid.uuid4()), target.function, target.function, data.encode(), now, now))
        with self._lock:
            db = self._open()
            with db:
                db.execute("DELETE FROM events WHERE id = ?", (event.id,))
                db.executemany("INSERT INTO events (request_id, function, reference, payload, accepted, due) "
                               "VALUES (?, ?, ?, ?, ?, ?)", queued)
        if queued and self._wake is not None:
            self._wake.set()


def _version(fn: FunctionConfig, reference: str) -> str:
    """The version ``reference`` runs (a weighted alias: its main version)."""
    return resolve(fn, split_qualifier(reference)[1], 0.99999) or "$LATEST"
