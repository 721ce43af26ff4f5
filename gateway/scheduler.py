"""EventBridge scheduled rules, run: a timer that sends each function's Scheduled Event on time.

Each ``functions.NAME.schedule`` entry is a rule (gateway/schedules.py parses it at load). While
the gateway serves, one asyncio task sleeps until the next fire time of any rule, then hands the
rule's event to the async-invocation queue, as EventBridge invokes a Lambda target asynchronously
(so the function's retries and destinations apply). ``gateway serve --no-schedules`` (``[gateway]
schedules = false``) keeps the timer off; the admin listener can still run a rule by hand:

    GET  /schedules              every rule, its function, expression and next fire time (JSON)
    POST /schedules/<rule-name>  send that rule's event now: 202 {"rule", "id", "requestId", "time"}

Like EventBridge, nothing is made up for time the gateway was not running: a fire missed while
it was down (or while the host slept) is not replayed later (EventBridge never backfills).
The clock (``now``, ``sleep``) is a parameter, so tests drive the timer without waiting.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from gateway.config import GatewayConfig, ScheduleConfig
from gateway.errors import GatewayError
from gateway.fronts.admin import AdminFront, Endpoint
from gateway.ids import new_context
from gateway.models import HttpRequest, HttpResponse
from gateway.schedules import (
    Schedule,
    default_rule_name,
    event_time,
    next_fire,
    parse_schedule,
    rule_arn,
    scheduled_event,
)

if TYPE_CHECKING:
    from gateway.app import GatewayApp
    from gateway.functions import FunctionsService

log = logging.getLogger("gateway.scheduler")

#: Sleep at most this long at once, so a wall clock that is set (NTP) is followed within a minute.
MAX_SLEEP = 60.0


class Enqueuer(Protocol):
    """What the scheduler hands events to: the durable async-invocation queue (gateway/queue.py),
    whose ``enqueue`` has stored the event when it returns."""

    def enqueue(
        self, reference: str, payload: bytes, *, request_id: str, trace_id: str | None = None,
        client_context: str | None = None,
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class Rule:
    """One scheduled rule and its one target, the function (unqualified: $LATEST)."""

    name: str
    arn: str
    function: str
    expression: str
    schedule: Schedule
    input: str | None = None
    enabled: bool = True
    description: str = ""


@dataclass(frozen=True, slots=True)
class Fired:
    """One event sent: EventBridge's event id, the Lambda request id, the event's time."""

    rule: str
    event_id: str
    request_id: str
    time: datetime


def rules_from_config(config: GatewayConfig) -> list[Rule]:
    """Every function's schedules as rules, in file order (names were given or made at load)."""
    g = config.gateway
    rules = []
    for function, fn in config.functions.items():
        for i, entry in enumerate(fn.schedule):
            spec = entry if isinstance(entry, ScheduleConfig) else ScheduleConfig(expression=entry)
            name = spec.name or default_rule_name(function, i)
            rules.append(Rule(
                name=name, arn=rule_arn(g.region, g.account_id, name), function=function,
                expression=spec.expression, schedule=parse_schedule(spec.expression), input=spec.input,
                enabled=spec.enabled, description=spec.description,
            ))
    return rules


def utc_now() -> datetime:
    return datetime.now(UTC)


class Scheduler:
    """The rules of one gateway and the timer that fires them (``start()`` / ``aclose()``)."""

    def __init__(
        self,
        rules: Iterable[Rule],
        target: Enqueuer,
        *,
        region: str,
        account_id: str,
        now: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_sleep: float = MAX_SLEEP,
    ) -> None:
        self.rules = {rule.name: rule for rule in rules}
        self.target = target
        self.region = region
        self.account_id = account_id
        self._now = now
        self._sleep = sleep
        self._max_sleep = max_sleep
        self._task: asyncio.Task[None] | None = None
        #: when the timer started: the start of every rate's periods (SCH-2).
        self.started_at: datetime | None = None
        self._next: dict[str, datetime | None] = {}

    @classmethod
    def for_app(cls, app: GatewayApp) -> Scheduler:
        """The app's scheduler, its events to ``app.async_queue`` (or, without a queue, straight to
        an invocation), its endpoints on the admin listener if there is one."""
        g = app.config.gateway
        scheduler = cls(rules_from_config(app.config), AppTarget(app), region=g.region, account_id=g.account_id)
        for _, front in app.fronts:
            if isinstance(front, AdminFront):
                front.routes.update(scheduler.admin_routes())
        return scheduler

    # -- the timer ------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start the timer (from the event loop). Rates count their periods from now (SCH-2)."""
        if self._task is not None:
            return
        self.started_at = self._now()
        self._next = {name: self._following(rule, self.started_at) for name, rule in self.rules.items()
                      if rule.enabled}
        if self._next:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="lambda-gateway-scheduler")

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    def next_fire(self, name: str) -> datetime | None:
        """When rule ``name`` fires next (None: not running, disabled, or its schedule has ended)."""
        return self._next.get(name) if self.running else None

    def _following(self, rule: Rule, after: datetime) -> datetime | None:
        return next_fire(rule.schedule, after, start=self.started_at)

    async def _run(self) -> None:
        while True:
            pending = [when for when in self._next.values() if when is not None]
            if not pending:
                return  # every schedule has ended (its last year is past)
            wait = (min(pending) - self._now()).total_seconds()
            if wait > 0:
                await self._sleep(min(wait, self._max_sleep))
                continue
            now = self._now()
            for name, when in list(self._next.items()):
                if when is None or when > now:
                    continue
                # Fire once for this time; times missed while the loop was late are skipped, not
                # replayed (as EventBridge does not backfill): the next one is after now.
                self._next[name] = self._following(self.rules[name], max(when, now))
                try:
                    self.fire(name, when)
                except Exception:  # a failing queue must not stop the other schedules
                    log.exception("schedule %s: the event for %s could not be queued", name, event_time(when))

    # -- firing ---------------------------------------------------------------------------------

    def payload(self, rule: Rule, event_id: str, when: datetime) -> bytes:
        """The rule's event: the Scheduled Event (SCH-8), or the target's Input in its place (SCH-9)."""
        if rule.input is not None:
            return rule.input.encode()
        event = scheduled_event(rule_arn=rule.arn, region=self.region, account_id=self.account_id,
                                event_id=event_id, time=when)
        return json.dumps(event, separators=(",", ":")).encode()

    def fire(self, name: str, when: datetime | None = None) -> Fired:
        """Send rule ``name``'s event for time ``when`` (default: now) to its function. KeyError if unknown."""
        rule = self.rules[name]
        when = (when or self._now()).astimezone(UTC)
        ctx = new_context()
        event_id = str(uuid.uuid4())
        self.target.enqueue(rule.function, self.payload(rule, event_id, when),
                                  request_id=ctx.request_id, trace_id=ctx.trace_id)
        log.info("schedule %s: sent event %s to %s (request %s, time %s)",
                 name, event_id, rule.function, ctx.request_id, event_time(when))
        return Fired(rule=name, event_id=event_id, request_id=ctx.request_id, time=when)

    # -- what the admin listener and the start-up screen show ------------------------------------

    def describe(self) -> list[dict[str, Any]]:
        out = []
        for rule in self.rules.values():
            when = self.next_fire(rule.name)
            out.append({
                "name": rule.name, "arn": rule.arn, "function": rule.function, "expression": rule.expression,
                "enabled": rule.enabled, "input": rule.input, "description": rule.description,
                "nextFire": event_time(when) if when is not None else None,
            })
        return out

    def startup_lines(self, now: datetime | None = None) -> list[str]:
        """One line per rule for the start-up screen, with its next fire time if the timer started now."""
        now = now or self._now()
        lines = []
        for rule in self.rules.values():
            when = next_fire(rule.schedule, now) if rule.enabled else None
            state = "disabled" if not rule.enabled else f"next {event_time(when)}" if when else "no more fire times"
            lines.append(f"schedule {rule.name}: {rule.expression} -> {rule.function} ({state})")
        return lines

    def admin_routes(self) -> dict[str, dict[str, Endpoint]]:
        """``GET /schedules`` and ``POST /schedules/<rule-name>`` for the admin listener."""
        routes: dict[str, dict[str, Endpoint]] = {"/schedules": {"GET": self._list}}
        for name in self.rules:
            routes[f"/schedules/{name}"] = {"POST": self._trigger(name)}
        return routes

    async def _list(self, request: HttpRequest) -> HttpResponse:
        return _json(200, {"running": self.running, "schedules": self.describe()})

    def _trigger(self, name: str) -> Callable[[HttpRequest], Awaitable[HttpResponse]]:
        async def endpoint(request: HttpRequest) -> HttpResponse:
            try:
                fired = self.fire(name)
            except GatewayError as exc:
                return _json(503, {"message": f"{type(exc).__name__}: {exc}"})
            return _json(202, {"rule": name, "id": fired.event_id, "requestId": fired.request_id,
                               "time": event_time(fired.time)})

        return endpoint


def _json(status: int, body: Mapping[str, Any]) -> HttpResponse:
    return HttpResponse(status=status, headers=(("Content-Type", "application/json"), ("Cache-Control", "no-store")),
                        body=json.dumps(body, indent=1).encode())


class AppTarget:
    """Events to ``app.async_queue`` (the durable queue, gateway/queue.py) when the app has one;
    otherwise each is invoked at once in a background task (not durable, no retries)."""

    def __init__(self, app: GatewayApp) -> None:
        self.app = app
        self.fallback = InvokeInBackground(app.functions)

    def enqueue(
        self, reference: str, payload: bytes, *, request_id: str, trace_id: str | None = None,
        client_context: str | None = None,
    ) -> None:
        queue: Enqueuer | None = getattr(self.app, "async_queue", None)
        target = queue if queue is not None else self.fallback
        target.enqueue(reference, payload, request_id=request_id, trace_id=trace_id,
                             client_context=client_context)


class InvokeInBackground:
    """An Enqueuer without a queue: ``functions.invoke`` in a task, its outcome in the log."""

    def __init__(self, functions: FunctionsService) -> None:
        self.functions = functions
        self._tasks: set[asyncio.Task[None]] = set()

    def enqueue(
        self, reference: str, payload: bytes, *, request_id: str, trace_id: str | None = None,
        client_context: str | None = None,
    ) -> None:
        task = asyncio.get_running_loop().create_task(
            self._invoke(reference, payload, request_id, trace_id, client_context))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _invoke(self, reference: str, payload: bytes, request_id: str, trace_id: str | None,
                      client_context: str | None) -> None:
        try:
            result = await self.functions.invoke(reference, payload, request_id=request_id, trace_id=trace_id,
                                                 client_context=client_context)
        except GatewayError as exc:
            log.warning("scheduled invocation %s of %s failed: %s: %s", request_id, reference, type(exc).__name__, exc)
            return
        except Exception:  # a bug must not vanish in a task nobody awaits
            log.exception("scheduled invocation %s of %s", request_id, reference)
            return
        if result.function_error:
            log.warning("scheduled invocation %s of %s: function error %s", request_id, reference,
                        result.function_error)
