"""EventBridge schedule expressions and the Scheduled Event they send: pure (no clock, no ids of its own).

``parse_schedule("rate(5 minutes)")`` or ``parse_schedule("cron(0 12 * * ? *)")`` validates an
expression as EventBridge's PutRule does and returns a ``Rate`` or a ``Cron``; ``next_fire(expr,
after)`` is the first fire time strictly after ``after`` (UTC). ``scheduled_event(...)`` builds the
event a scheduled rule sends its targets. The I/O (sleeping, enqueueing) is gateway/scheduler.py.

Sources (rule ids used in comments and tests):

SCH-1  rate(value unit): value a positive integer; unit minute|minutes|hour|hours|day|days, singular
       exactly when value is 1 ("rate(1 hours) and rate(5 hour) aren't valid").
       https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rate-expressions.html
       Rejected by AWS (localstack's AWS-validated test ``test_put_rule_with_invalid_schedule_rate``):
       rate(10 seconds), rate(10 years), rate(1 minutes), rate(10 minute), rate(), rate(10),
       rate(foo minutes), rate(0 minutes), rate(-10 minutes), rate(10 MINUTES), rate( 10 minutes ),
       " rate(10 minutes)". Every one answers ValidationException "Parameter ScheduleExpression is not valid."
SCH-2  "A rate expression starts when you create the scheduled event rule": the period counts from the
       rule's creation (here: the gateway's start).
SCH-3  cron(fields): six fields, minutes 0-59, hours 0-23, day-of-month 1-31, month 1-12 or JAN-DEC,
       day-of-week 1-7 or SUN-SAT (SUN=1), year 1970-2199. Wildcards per field: minutes, hours, month,
       year ``, - * /``; day-of-month ``, - * ? / L W``; day-of-week ``, - * ? L #``.
       https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html
SCH-4  One of day-of-month and day-of-week must be ``?`` ("You can't use * in both ... If you use it in
       one, you must use ? in the other"); AWS rejects cron(0 1 * * * *) and cron(7 20 * * 1-7 *).
SCH-5  ``/`` is an increment from a start ("1/10": minutes 1, 11, 21 ...); AWS rejects cron(*/60 * * * ? *).
SCH-6  ``L``: the last day of the month (day-of-month) or of the week (day-of-week, i.e. SAT); ``W``:
       the weekday nearest the given day ("3W"); ``#``: the n-th given weekday of the month ("3#2" the
       second Tuesday), and with ``#`` the day-of-week field holds one expression only ("3#1,6#3" is
       invalid). ``6L`` (the last Friday) is AWS's own example: cron(15 10 ? * 6L 2002-2005).
SCH-7  Every schedule runs in UTC, at a one-minute precision.
SCH-8  The Scheduled Event: {"version": "0", "id", "detail-type": "Scheduled Event", "source":
       "aws.events", "account", "time": "YYYY-MM-DDTHH:MM:SSZ", "region", "resources": [rule ARN],
       "detail": {}} in that order (localstack's AWS recording of a rate rule's SQS messages; the
       sample in https://docs.aws.amazon.com/lambda/latest/dg/with-eventbridge-scheduler.html).
       The rule ARN is arn:aws:events:REGION:ACCOUNT:rule/NAME; rule names are 1-64 of [.-_A-Za-z0-9].
SCH-9  A target's ``Input`` ("Valid JSON text passed to the target. In this case, nothing from the
       event itself is passed to the target"), at most 8192 characters.
       https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_Target.html

EventBridge's scheduled rules are Quartz cron underneath (``?``, ``L``, ``W``, ``#`` and SUN=1 are
Quartz's). Where AWS's documentation says nothing, Quartz's rules are followed; each such choice is
marked [INF]: case-insensitive month and day names, ranges that wrap (FRI-MON, 22-2), ``L-n`` and
``LW`` in day-of-month, ``L`` and ``W`` never in a list, an increment at most the field's maximum.
"""

from __future__ import annotations

import calendar
import dataclasses
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway.config import FunctionConfig
    from gateway.errors import ConfigError

#: What PutRule answers for every bad expression (SCH-1); our messages add which part is wrong.
AWS_MESSAGE = "Parameter ScheduleExpression is not valid."

RULE_NAME = re.compile(r"[.\-_A-Za-z0-9]{1,64}")
MAX_INPUT = 8192

_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {name: i + 1 for i, name in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"))}
_DAYS = {name: i + 1 for i, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}
YEARS = (1970, 2199)


class ScheduleError(ValueError):
    """An expression EventBridge would refuse. ``str(exc)`` says which part is wrong."""


@dataclass(frozen=True, slots=True)
class Rate:
    """``rate(value unit)``: every ``period``, counted from the rule's creation (SCH-2)."""

    text: str
    value: int
    unit: str  # "minute", "hour" or "day"

    @property
    def period(self) -> timedelta:
        return timedelta(seconds=self.value * _UNITS[self.unit])


@dataclass(frozen=True, slots=True)
class MonthDays:
    """Day-of-month: a set of days, or ``L`` / ``L-n`` (last_offset), ``LW``, ``nW`` (nearest)."""

    days: frozenset[int] = frozenset()
    last_offset: int | None = None
    last_weekday: bool = False
    nearest_weekday: int | None = None


@dataclass(frozen=True, slots=True)
class WeekDays:
    """Day-of-week (1 = SUN ... 7 = SAT): a set, or ``nL`` (last), or ``n#k`` (nth = (n, k))."""

    days: frozenset[int] = frozenset()
    last: int | None = None
    nth: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class Cron:
    """``cron(minutes hours day-of-month month day-of-week year)``, in UTC (SCH-3, SCH-7).

    Exactly one of ``month_days`` and ``week_days`` is None (the field that was ``?``, SCH-4)."""

    text: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    month_days: MonthDays | None
    months: tuple[int, ...]
    week_days: WeekDays | None
    years: tuple[int, ...]

    def days(self, year: int, month: int) -> list[int]:
        """The days of ``month`` in ``year`` this expression fires on, in order."""
        last = calendar.monthrange(year, month)[1]
        if self.month_days is not None:
            return _month_days(self.month_days, year, month, last)
        assert self.week_days is not None
        return _week_days(self.week_days, year, month, last)


Schedule = Rate | Cron


# --------------------------------------------------------------------------------------------
# Parsing


def parse_schedule(text: str) -> Schedule:
    """A ``Rate`` or a ``Cron``; ScheduleError for anything EventBridge's PutRule would refuse.

    No whitespace is allowed around the expression or inside the parentheses' ends, and the
    keywords are lower case, as on AWS (SCH-1)."""
    if not isinstance(text, str):
        raise ScheduleError("must be a string")
    if text.startswith("rate(") and text.endswith(")"):
        return _parse_rate(text)
    if text.startswith("cron(") and text.endswith(")"):
        return _parse_cron(text)
    raise ScheduleError("must be rate(value unit) or cron(minutes hours day-of-month month day-of-week year)")


def _parse_rate(text: str) -> Rate:
    inner = text[5:-1]
    match = re.fullmatch(r"(\S+) (\S+)", inner)
    if match is None:
        raise ScheduleError("a rate is rate(value unit), one space apart, as in rate(5 minutes)")
    value_text, unit_text = match.groups()
    if not value_text.isdigit() or not value_text.isascii():
        raise ScheduleError(f"the value {value_text!r} is not a positive whole number")
    value = int(value_text)
    if value == 0:
        raise ScheduleError("the value must be a positive number, not 0")
    unit = unit_text.removesuffix("s")
    if unit not in _UNITS:
        raise ScheduleError(f"the unit {unit_text!r} is not one of minute, minutes, hour, hours, day, days")
    if value == 1 and unit_text != unit:
        raise ScheduleError(f"a value of 1 takes the singular unit: rate(1 {unit})")
    if value > 1 and unit_text == unit:
        raise ScheduleError(f"a value over 1 takes the plural unit: rate({value} {unit}s)")
    if value * _UNITS[unit] > 100 * 366 * 86400:  # [INF] AWS states no maximum; a century keeps dates sane
        raise ScheduleError("the period is over 100 years")
    return Rate(text=text, value=value, unit=unit)


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int] | None = None
    step: bool = True
    wrap: bool = True  # [INF] Quartz: a range whose end is before its start wraps (22-2, FRI-MON)


_MINUTES = _Field("minutes", 0, 59)
_HOURS = _Field("hours", 0, 23)
_MONTH_DAYS = _Field("day-of-month", 1, 31)
_MONTHS_FIELD = _Field("month", 1, 12, _MONTHS)
_WEEK_DAYS = _Field("day-of-week", 1, 7, _DAYS, step=False)  # SCH-3: no "/" in day-of-week [INF]
_YEARS = _Field("year", YEARS[0], YEARS[1], wrap=False)


def _parse_cron(text: str) -> Cron:
    inner = text[5:-1]
    if inner != inner.strip():
        raise ScheduleError("no space may follow 'cron(' or precede ')'")  # [INF] as for rate (SCH-1)
    fields = inner.split()
    if len(fields) != 6:
        raise ScheduleError(
            f"a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), not {len(fields)}")
    minute, hour, month_day, month, week_day, year = fields
    if (month_day == "?") == (week_day == "?"):
        raise ScheduleError("one of day-of-month and day-of-week must be '?', and only one")  # SCH-4
    return Cron(
        text=text,
        minutes=_values(minute, _MINUTES),
        hours=_values(hour, _HOURS),
        month_days=None if month_day == "?" else _parse_month_days(month_day),
        months=_values(month, _MONTHS_FIELD),
        week_days=None if week_day == "?" else _parse_week_days(week_day),
        years=_values(year, _YEARS),
    )


def _values(text: str, field: _Field) -> tuple[int, ...]:
    """A field of values, ranges, increments and ``*``, comma-separated: the sorted set it means."""
    out: set[int] = set()
    for item in text.split(","):
        out.update(_item(item, field))
    return tuple(sorted(out))


def _item(item: str, field: _Field) -> Iterator[int]:
    if not item:
        raise ScheduleError(f"the {field.name} field {item!r} has an empty list item")
    base, slash, step_text = item.partition("/")
    if slash:
        if not field.step:
            raise ScheduleError(f"the {field.name} field does not take '/'")
        if not step_text.isdigit() or not step_text.isascii() or not 1 <= int(step_text) <= field.high:
            # SCH-5 (AWS refuses */60 in minutes); [INF] the Quartz bound: at most the field's maximum
            raise ScheduleError(f"the {field.name} increment {step_text!r} is not a number 1-{field.high}")
        step = int(step_text)
    else:
        step = 1
    if base == "*":
        start, end = field.low, field.high
    elif "-" in base:
        first, _, second = base.partition("-")
        start, end = _value(first, field), _value(second, field)
    else:
        start = _value(base, field)
        end = field.high if slash else start  # "5/15": from 5 to the end of the range (SCH-5)
    if end < start and not field.wrap:
        raise ScheduleError(f"the {field.name} range {base!r} ends before it starts")
    span = end - start if end >= start else end + (field.high - field.low + 1) - start
    for offset in range(0, span + 1, step):
        value = start + offset
        yield value if value <= field.high else value - (field.high - field.low + 1)


def _value(text: str, field: _Field) -> int:
    if field.names is not None and text.upper() in field.names:  # [INF] names in any case, as Quartz
        return field.names[text.upper()]
    if not text.isdigit() or not text.isascii():
        names = f" or {next(iter(field.names))}-{list(field.names)[-1]}" if field.names else ""
        raise ScheduleError(f"the {field.name} value {text!r} is not a number {field.low}-{field.high}{names}")
    value = int(text)
    if not field.low <= value <= field.high:
        raise ScheduleError(f"the {field.name} value {value} is not in {field.low}-{field.high}")
    return value


def _parse_month_days(text: str) -> MonthDays:
    """Day-of-month: values/ranges/increments, ``L``, ``L-n`` [INF], ``LW`` [INF], ``nW`` (SCH-6)."""
    upper = text.upper()
    if "L" in upper or "W" in upper:
        if "," in text:
            raise ScheduleError("L and W cannot be combined with other days of the month")  # [INF] Quartz
        if upper == "L":
            return MonthDays(last_offset=0)
        if upper == "LW":
            return MonthDays(last_weekday=True)
        match = re.fullmatch(r"L-(\d{1,2})", upper)
        if match is not None:
            offset = int(match.group(1))
            if offset > 30:
                raise ScheduleError("the day-of-month offset L-n takes n from 0 to 30")
            return MonthDays(last_offset=offset)
        match = re.fullmatch(r"(\d{1,2})W", upper)
        if match is not None:
            return MonthDays(nearest_weekday=_value(match.group(1), _MONTH_DAYS))
        raise ScheduleError(f"the day-of-month value {text!r} is not L, LW, L-n or nW")
    return MonthDays(days=frozenset(_values(text, _MONTH_DAYS)))


def _parse_week_days(text: str) -> WeekDays:
    """Day-of-week: values/ranges, ``L`` (SAT), ``nL`` (last n-day), ``n#k`` (k-th n-day) (SCH-6)."""
    if "#" in text:
        if "," in text:
            raise ScheduleError("with '#' the day-of-week field holds one expression only")  # SCH-6
        day_text, _, nth_text = text.partition("#")
        if nth_text not in ("1", "2", "3", "4", "5"):
            raise ScheduleError(f"the day-of-week '#' takes an instance 1-5, not {nth_text!r}")
        return WeekDays(nth=(_value(day_text, _WEEK_DAYS), int(nth_text)))
    upper = text.upper()
    if upper == "L":
        return WeekDays(days=frozenset({7}))  # the last day of the week (SCH-6): Saturday
    if "L" in upper:  # no day name has an L
        if "," in text or "-" in text or not upper.endswith("L"):
            raise ScheduleError("nL (the last n-day of the month) cannot be combined with other days")  # [INF]
        return WeekDays(last=_value(text[:-1], _WEEK_DAYS))
    return WeekDays(days=frozenset(_values(text, _WEEK_DAYS)))


# --------------------------------------------------------------------------------------------
# Days of a month


def _weekday(year: int, month: int, day: int) -> int:
    """EventBridge's day-of-week number: 1 = Sunday ... 7 = Saturday."""
    return (calendar.weekday(year, month, day) + 1) % 7 + 1


def _month_days(spec: MonthDays, year: int, month: int, last: int) -> list[int]:
    if spec.last_offset is not None:
        day = last - spec.last_offset
        return [day] if day >= 1 else []
    if spec.last_weekday:
        shift = {7: 1, 1: 2}.get(_weekday(year, month, last), 0)  # Saturday -> Friday, Sunday -> Friday
        return [last - shift]
    if spec.nearest_weekday is not None:
        return _nearest_weekday(spec.nearest_weekday, year, month, last)
    return [d for d in sorted(spec.days) if d <= last]


def _nearest_weekday(day: int, year: int, month: int, last: int) -> list[int]:
    """``nW``: the weekday nearest day n, never crossing into another month (Quartz's rule, SCH-6).

    [INF] A day the month does not have (31W in April) fires on no day of that month."""
    if day > last:
        return []
    weekday = _weekday(year, month, day)
    if weekday == 7:  # Saturday: the Friday before, or the Monday after the 1st
        return [day - 1] if day > 1 else [day + 2]
    if weekday == 1:  # Sunday: the Monday after, or the Friday before the last day
        return [day + 1] if day < last else [day - 2]
    return [day]


def _week_days(spec: WeekDays, year: int, month: int, last: int) -> list[int]:
    first = _weekday(year, month, 1)
    if spec.nth is not None:
        wanted, nth = spec.nth
        day = 1 + (wanted - first) % 7 + 7 * (nth - 1)
        return [day] if day <= last else []
    if spec.last is not None:
        return [last - (_weekday(year, month, last) - spec.last) % 7]
    return [d for d in range(1, last + 1) if (first - 1 + d - 1) % 7 + 1 in spec.days]


# --------------------------------------------------------------------------------------------
# Fire times


def next_fire(expr: str | Schedule, after: datetime, *, start: datetime | None = None) -> datetime | None:
    """The first time strictly after ``after`` that the schedule fires, in UTC; None if it never does.

    A ``rate`` fires at ``start + k * period`` (k >= 1; ``start`` is when the rule was created,
    SCH-2, by default ``after``). A ``cron`` fires at whole minutes (SCH-7); None once its years are
    past (the year field stops at 2199) or if its days never occur (cron(0 0 30 2 ? *)).
    Naive datetimes are taken as UTC."""
    schedule = parse_schedule(expr) if isinstance(expr, str) else expr
    after = _utc(after)
    if isinstance(schedule, Rate):
        anchor = after if start is None else _utc(start)
        period = schedule.period
        steps = 1 if after < anchor else (after - anchor) // period + 1
        try:
            return anchor + steps * period
        except OverflowError:
            return None
    return _next_cron(schedule, after)


def _next_cron(cron: Cron, after: datetime) -> datetime | None:
    start = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    for year in cron.years:
        if year < start.year:
            continue
        for month in cron.months:
            if (year, month) < (start.year, start.month):
                continue
            for day in cron.days(year, month):
                if (year, month, day) < (start.year, start.month, start.day):
                    continue
                for hour in cron.hours:
                    for minute in cron.minutes:
                        candidate = datetime(year, month, day, hour, minute, tzinfo=UTC)
                        if candidate >= start:
                            return candidate
    return None


def fire_times(expr: str | Schedule, after: datetime, count: int, *, start: datetime | None = None) -> list[datetime]:
    """The next ``count`` fire times after ``after`` (fewer if the schedule ends)."""
    schedule = parse_schedule(expr) if isinstance(expr, str) else expr
    out: list[datetime] = []
    anchor = start if start is not None or not isinstance(schedule, Rate) else after
    when: datetime | None = after
    while len(out) < count and when is not None:
        when = next_fire(schedule, when, start=anchor)
        if when is not None:
            out.append(when)
    return out


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


# --------------------------------------------------------------------------------------------
# Rules and the Scheduled Event


def rule_arn(region: str, account_id: str, name: str) -> str:
    """arn:aws:events:REGION:ACCOUNT:rule/NAME (rules on the default event bus, SCH-8)."""
    return f"arn:aws:events:{region}:{account_id}:rule/{name}"


def event_time(when: datetime) -> str:
    """EventBridge's ``time``: UTC to the second, with a Z (2026-11-23T12:00:00Z)."""
    return _utc(when).strftime("%Y-%m-%dT%H:%M:%SZ")


def scheduled_event(*, rule_arn: str, region: str, account_id: str, event_id: str, time: datetime) -> dict[str, Any]:
    """The event a scheduled rule sends its targets (SCH-8), fields in AWS's order."""
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account_id,
        "time": event_time(time),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


def input_problem(text: str) -> str | None:
    """Why a target ``Input`` is not acceptable (SCH-9), or None."""
    if len(text) > MAX_INPUT:
        return f"is over EventBridge's {MAX_INPUT} characters for a target's Input"
    try:
        json.loads(text)
    except ValueError as exc:
        return f"is not valid JSON text ({exc})"
    return None


def default_rule_name(function: str, index: int) -> str:
    """``<function>-schedule-<n>`` (n from 1), the function part shortened to keep within 64 characters."""
    suffix = f"-schedule-{index + 1}"
    return function[: 64 - len(suffix)] + suffix


def check_schedules(
    functions: Mapping[str, FunctionConfig], fail: Callable[[str, str], ConfigError]
) -> dict[str, FunctionConfig]:
    """At load: every ``functions.NAME.schedule`` entry parsed (a bad one is a ConfigError naming
    ``functions.NAME.schedule[i]``), strings made tables with their rule names, names unique."""
    from gateway.config import ScheduleConfig

    out: dict[str, FunctionConfig] = {}
    seen: dict[str, str] = {}
    for name, fn in functions.items():
        entries: list[ScheduleConfig] = []
        for i, entry in enumerate(fn.schedule):
            key = f"functions.{name}.schedule[{i}]"
            if isinstance(entry, str):
                entry = ScheduleConfig(expression=entry)
                expression_key = key
            else:
                expression_key = f"{key}.expression"
            try:
                parse_schedule(entry.expression)
            except ScheduleError as exc:
                raise fail(expression_key, f"{entry.expression!r} is not a valid schedule expression: {exc} "
                                           f"(EventBridge: {AWS_MESSAGE!r})") from None
            rule = entry.name or default_rule_name(name, i)
            if not RULE_NAME.fullmatch(rule):
                raise fail(f"{key}.name", "a rule name is 1-64 letters, digits, '.', '-' or '_'")
            if rule in seen:
                raise fail(f"{key}.name" if entry.name else key,
                           f"the rule name {rule!r} is already used by {seen[rule]}")
            seen[rule] = key
            if entry.input is not None:
                problem = input_problem(entry.input)
                if problem is not None:
                    raise fail(f"{key}.input", problem)
            if len(entry.description) > 512:
                raise fail(f"{key}.description", "is over EventBridge's 512 characters for a rule's description")
            entries.append(dataclasses.replace(entry, name=rule))
        out[name] = dataclasses.replace(fn, schedule=tuple(entries)) if fn.schedule else fn
    return out
