"""EventBridge schedule expressions (gateway/schedules.py): what PutRule accepts, and when each fires.

Rule ids (SCH-n) are in the module docstring of gateway/schedules.py. Every fire time here was
worked out by hand from the calendar (2026-11-23 is a Monday; 2100 is not a leap year).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from gateway.config import GatewayConfig, ScheduleConfig
from gateway.errors import ConfigError
from gateway.schedules import (
    AWS_MESSAGE,
    Cron,
    Rate,
    ScheduleError,
    default_rule_name,
    event_time,
    fire_times,
    next_fire,
    parse_schedule,
    rule_arn,
    scheduled_event,
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# -- rate (SCH-1, SCH-2) ------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "value", "unit", "seconds"), [
    ("rate(1 minute)", 1, "minute", 60),
    ("rate(5 minutes)", 5, "minute", 300),
    ("rate(1 hour)", 1, "hour", 3600),
    ("rate(12 hours)", 12, "hour", 43200),
    ("rate(1 day)", 1, "day", 86400),
    ("rate(7 days)", 7, "day", 604800),
])
def test_rates(text: str, value: int, unit: str, seconds: int) -> None:
    rate = parse_schedule(text)
    assert rate == Rate(text=text, value=value, unit=unit)
    assert isinstance(rate, Rate) and rate.period == timedelta(seconds=seconds)


def test_a_rate_counts_its_periods_from_the_rule_s_creation() -> None:
    start = at("2026-01-01T00:00:30")
    assert next_fire("rate(5 minutes)", start, start=start) == at("2026-01-01T00:05:30")
    assert next_fire("rate(5 minutes)", at("2026-01-01T00:05:30"), start=start) == at("2026-01-01T00:10:30")
    assert next_fire("rate(5 minutes)", at("2026-01-01T00:07:00"), start=start) == at("2026-01-01T00:10:30")
    assert next_fire("rate(5 minutes)", at("2025-12-31T00:00:00"), start=start) == at("2026-01-01T00:05:30")
    assert next_fire("rate(2 days)", at("2026-01-04T23:59:59"), start=start) == at("2026-01-05T00:00:30")
    # Without a start, the rule is taken as created at ``after``.
    assert next_fire("rate(1 hour)", at("2026-01-01T10:20:00")) == at("2026-01-01T11:20:00")
    assert fire_times("rate(1 minute)", start, 3) == [at("2026-01-01T00:01:30"), at("2026-01-01T00:02:30"),
                                                     at("2026-01-01T00:03:30")]


# AWS refuses each of these with "Parameter ScheduleExpression is not valid." (SCH-1, localstack's
# AWS-validated test_put_rule_with_invalid_schedule_rate); our messages say why.
@pytest.mark.parametrize(("text", "message"), [
    ("rate(10 seconds)", "the unit 'seconds' is not one of minute, minutes, hour, hours, day, days"),
    ("rate(10 years)", "the unit 'years' is not one of minute, minutes, hour, hours, day, days"),
    ("rate(1 minutes)", "a value of 1 takes the singular unit: rate(1 minute)"),
    ("rate(1 hours)", "a value of 1 takes the singular unit: rate(1 hour)"),
    ("rate(1 days)", "a value of 1 takes the singular unit: rate(1 day)"),
    ("rate(10 minute)", "a value over 1 takes the plural unit: rate(10 minutes)"),
    ("rate(10 hour)", "a value over 1 takes the plural unit: rate(10 hours)"),
    ("rate(10 day)", "a value over 1 takes the plural unit: rate(10 days)"),
    ("rate()", "a rate is rate(value unit), one space apart, as in rate(5 minutes)"),
    ("rate(10)", "a rate is rate(value unit), one space apart, as in rate(5 minutes)"),
    ("rate(10 minutess)", "the unit 'minutess' is not one of minute, minutes, hour, hours, day, days"),
    ("rate(foo minutes)", "the value 'foo' is not a positive whole number"),
    ("rate(0 minutes)", "the value must be a positive number, not 0"),
    ("rate(-10 minutes)", "the value '-10' is not a positive whole number"),
    ("rate(10 MINUTES)", "the unit 'MINUTES' is not one of minute, minutes, hour, hours, day, days"),
    ("rate( 10 minutes )", "a rate is rate(value unit), one space apart, as in rate(5 minutes)"),
    (" rate(10 minutes)", "must be rate(value unit) or cron(minutes hours day-of-month month day-of-week year)"),
    ("rate(1.5 hours)", "the value '1.5' is not a positive whole number"),
    ("RATE(5 minutes)", "must be rate(value unit) or cron(minutes hours day-of-month month day-of-week year)"),
    ("every 5 minutes", "must be rate(value unit) or cron(minutes hours day-of-month month day-of-week year)"),
])
def test_invalid_rates(text: str, message: str) -> None:
    with pytest.raises(ScheduleError) as info:
        parse_schedule(text)
    assert str(info.value) == message


# -- cron: what is accepted (SCH-3 .. SCH-6) ------------------------------------------------------

# AWS's own examples (the EventBridge guide; localstack's AWS-validated tests_put_rule_with_schedule_cron).
@pytest.mark.parametrize("text", [
    "cron(0 2 ? * SAT *)", "cron(0 12 * * ? *)", "cron(5,35 14 * * ? *)", "cron(15 10 ? * 6L 2002-2005)",
    "cron(0 2 ? * SAT#3 *)", "cron(* * ? * SAT#3 *)", "cron(0/5 5 ? JAN 1-5 2022)", "cron(0 10 * * ? *)",
    "cron(15 12 * * ? *)", "cron(0 18 ? * MON-FRI *)", "cron(0 8 1 * ? *)", "cron(0/15 * * * ? *)",
    "cron(0/10 * ? * MON-FRI *)", "cron(0/5 8-17 ? * MON-FRI *)", "cron(0/30 20-23 ? * MON-FRI *)",
    "cron(0/30 0-2 ? * MON-FRI *)", "cron(0 0 L * ? *)", "cron(0 0 3W * ? *)", "cron(0 0 ? * 3#2 *)",
])
def test_aws_examples_parse(text: str) -> None:
    assert isinstance(parse_schedule(text), Cron)


def test_a_parsed_cron() -> None:
    cron = parse_schedule("cron(0/20 8-10 ? JAN,jul MON-FRI 2026/2)")
    assert isinstance(cron, Cron)
    assert cron.minutes == (0, 20, 40)
    assert cron.hours == (8, 9, 10)
    assert cron.month_days is None
    assert cron.months == (1, 7)
    assert cron.week_days is not None and cron.week_days.days == frozenset({2, 3, 4, 5, 6})  # SUN=1
    assert cron.years == tuple(range(2026, 2200, 2))


# (expression, after, the next three fire times)
CASES = [
    # every day at noon; strictly after: noon itself goes to the next day
    ("cron(0 12 * * ? *)", "2026-01-01T11:59:59",
     ["2026-01-01T12:00:00", "2026-01-02T12:00:00", "2026-01-03T12:00:00"]),
    ("cron(0 12 * * ? *)", "2026-01-01T12:00:00",
     ["2026-01-02T12:00:00", "2026-01-03T12:00:00", "2026-01-04T12:00:00"]),
    ("cron(5,35 14 * * ? *)", "2026-01-01T14:05:00",
     ["2026-01-01T14:35:00", "2026-01-02T14:05:00", "2026-01-02T14:35:00"]),
    # whole minutes only: 12:00:30 -> 12:01
    ("cron(* * * * ? *)", "2026-01-01T12:00:30",
     ["2026-01-01T12:01:00", "2026-01-01T12:02:00", "2026-01-01T12:03:00"]),
    ("cron(0/15 * * * ? *)", "2026-01-01T00:50:00",
     ["2026-01-01T01:00:00", "2026-01-01T01:15:00", "2026-01-01T01:30:00"]),
    # "1/10": the 1st, 11th, 21st ... minute (SCH-5, the guide's own example)
    ("cron(1/10 * * * ? *)", "2026-01-01T00:00:00",
     ["2026-01-01T00:01:00", "2026-01-01T00:11:00", "2026-01-01T00:21:00"]),
    ("cron(0 8-10/2 * * ? *)", "2026-01-01T09:00:00",
     ["2026-01-01T10:00:00", "2026-01-02T08:00:00", "2026-01-02T10:00:00"]),
    # weekdays: 2026-01-02 is a Friday, so Monday the 5th follows
    ("cron(0 18 ? * MON-FRI *)", "2026-01-02T18:00:00",
     ["2026-01-05T18:00:00", "2026-01-06T18:00:00", "2026-01-07T18:00:00"]),
    ("cron(0 18 ? * 2-6 *)", "2026-01-02T18:00:00",
     ["2026-01-05T18:00:00", "2026-01-06T18:00:00", "2026-01-07T18:00:00"]),
    # SUN is 1: 2026-11-29 is a Sunday
    ("cron(0 0 ? * 1 *)", "2026-11-23T00:00:00",
     ["2026-11-29T00:00:00", "2026-12-06T00:00:00", "2026-12-13T00:00:00"]),
    ("cron(0 0 ? * sun *)", "2026-11-23T00:00:00",
     ["2026-11-29T00:00:00", "2026-12-06T00:00:00", "2026-12-13T00:00:00"]),
    # L in day-of-week alone: the last day of the week, Saturday (SCH-6)
    ("cron(0 0 ? * L *)", "2026-11-23T00:00:00",
     ["2026-11-28T00:00:00", "2026-12-05T00:00:00", "2026-12-12T00:00:00"]),
    # 6L: the last Friday (AWS's example); Jan 31 and Feb 28 2025 are Fridays
    ("cron(15 10 ? * 6L 2025-2026)", "2025-01-01T00:00:00",
     ["2025-01-31T10:15:00", "2025-02-28T10:15:00", "2025-03-28T10:15:00"]),
    ("cron(15 10 ? * FRIL *)", "2025-01-01T00:00:00",
     ["2025-01-31T10:15:00", "2025-02-28T10:15:00", "2025-03-28T10:15:00"]),
    # SAT#3: the third Saturday; March 2025's Saturdays are 1, 8, 15
    ("cron(0 2 ? * SAT#3 *)", "2025-03-01T00:00:00",
     ["2025-03-15T02:00:00", "2025-04-19T02:00:00", "2025-05-17T02:00:00"]),
    # 2#5: a fifth Monday; January and February 2025 have none
    ("cron(0 0 ? * 2#5 *)", "2025-01-01T00:00:00",
     ["2025-03-31T00:00:00", "2025-06-30T00:00:00", "2025-09-29T00:00:00"]),
    # L in day-of-month: the last day, leap years included (2000 is one, 2100 is not)
    ("cron(0 0 L * ? *)", "2024-02-01T00:00:00",
     ["2024-02-29T00:00:00", "2024-03-31T00:00:00", "2024-04-30T00:00:00"]),
    ("cron(0 0 L 2 ? *)", "2099-03-01T00:00:00",
     ["2100-02-28T00:00:00", "2101-02-28T00:00:00", "2102-02-28T00:00:00"]),
    ("cron(0 0 L 2 ? *)", "1999-03-01T00:00:00",
     ["2000-02-29T00:00:00", "2001-02-28T00:00:00", "2002-02-28T00:00:00"]),
    ("cron(0 0 29 2 ? *)", "2096-03-01T00:00:00",
     ["2104-02-29T00:00:00", "2108-02-29T00:00:00", "2112-02-29T00:00:00"]),
    ("cron(0 0 L-2 * ? *)", "2025-02-01T00:00:00",
     ["2025-02-26T00:00:00", "2025-03-29T00:00:00", "2025-04-28T00:00:00"]),
    # LW: the last weekday; 2025-05-31 is a Saturday, 2025-08-31 a Sunday
    ("cron(0 0 LW 5,8 ? *)", "2025-01-01T00:00:00",
     ["2025-05-30T00:00:00", "2025-08-29T00:00:00", "2026-05-29T00:00:00"]),
    # nW: the weekday nearest day n, in the same month. 2025-03-01 is a Saturday: Monday the 3rd;
    # 2025-03-15 a Saturday: Friday the 14th; 2025-06-15 a Sunday: Monday the 16th.
    ("cron(0 0 1W 3 ? 2025)", "2025-01-01T00:00:00", ["2025-03-03T00:00:00"]),
    ("cron(0 0 15W 3,6 ? 2025)", "2025-01-01T00:00:00", ["2025-03-14T00:00:00", "2025-06-16T00:00:00"]),
    # 31W: April has no 31st; 2025-05-31 is a Saturday (Friday 30th); 2025-08-31 a Sunday that ends
    # the month (Friday 29th)
    ("cron(0 0 31W * ? *)", "2025-04-01T00:00:00",
     ["2025-05-30T00:00:00", "2025-07-31T00:00:00", "2025-08-29T00:00:00"]),
    ("cron(0 0 1 JAN,jul ? *)", "2026-02-01T00:00:00",
     ["2026-07-01T00:00:00", "2027-01-01T00:00:00", "2027-07-01T00:00:00"]),
    ("cron(0 0 1 1/3 ? *)", "2026-01-01T00:00:00",
     ["2026-04-01T00:00:00", "2026-07-01T00:00:00", "2026-10-01T00:00:00"]),
    ("cron(0 0 1 1 ? 2020/4)", "2026-06-01T00:00:00",
     ["2028-01-01T00:00:00", "2032-01-01T00:00:00", "2036-01-01T00:00:00"]),
    ("cron(0 0 1 1 ? 2027,2029)", "2026-06-01T00:00:00", ["2027-01-01T00:00:00", "2029-01-01T00:00:00"]),
    # [INF] ranges that wrap, as Quartz: hours 22-2, FRI-MON (2026-11-23 is a Monday)
    ("cron(0 22-2 ? * FRI-MON *)", "2026-11-23T21:00:00",
     ["2026-11-23T22:00:00", "2026-11-23T23:00:00", "2026-11-27T00:00:00"]),
    # the year field ends in 2199
    ("cron(59 23 31 12 ? *)", "2199-12-31T23:58:00", ["2199-12-31T23:59:00"]),
    ("cron(0 0 1 1 ? 2030)", "2030-01-01T00:00:00", []),
    # days that never come
    ("cron(0 0 30 2 ? *)", "2026-01-01T00:00:00", []),
    ("cron(0 0 31 4,6,9,11 ? *)", "2026-01-01T00:00:00", []),
]


@pytest.mark.parametrize(("text", "after", "expected"), CASES)
def test_next_fire_times(text: str, after: str, expected: list[str]) -> None:
    assert fire_times(text, at(after), 3) == [at(e) for e in expected]
    assert next_fire(text, at(after)) == (at(expected[0]) if expected else None)


def test_utc_without_daylight_saving() -> None:
    # 02:30 exists every day in UTC, across the US (Mar 8) and EU (Mar 29) clock changes of 2026.
    times = fire_times("cron(30 2 * * ? *)", at("2026-03-01T00:00:00"), 40)
    assert [b - a for a, b in zip(times, times[1:], strict=False)] == [timedelta(days=1)] * 39
    assert {t.time().isoformat() for t in times} == {"02:30:00"}


def test_naive_and_other_zones_are_utc() -> None:
    assert next_fire("cron(0 12 * * ? *)", datetime(2026, 1, 1, 11, 0)) == at("2026-01-01T12:00:00")
    plus_two = datetime(2026, 1, 1, 13, 0, tzinfo=timezone(timedelta(hours=2)))  # 11:00 UTC
    assert next_fire("cron(0 12 * * ? *)", plus_two) == at("2026-01-01T12:00:00")


# -- cron: what is refused ----------------------------------------------------------------------

@pytest.mark.parametrize(("text", "message"), [
    # AWS-validated refusals (localstack tests_put_rule_with_invalid_schedule_cron; SCH-4, SCH-5)
    ("cron(0 1 * * * *)", "one of day-of-month and day-of-week must be '?', and only one"),
    ("cron(7 20 * * 1-7 *)", "one of day-of-month and day-of-week must be '?', and only one"),
    ("cron(7 20 * * NOT *)", "one of day-of-month and day-of-week must be '?', and only one"),
    ("cron(INVALID)", "a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), not 1"),
    ("cron(0 dummy ? * MON-FRI *)", "the hours value 'dummy' is not a number 0-23"),
    ("cron(71 8 1 * ? *)", "the minutes value 71 is not in 0-59"),
    ("cron(*/60 * * * ? *)", "the minutes increment '60' is not a number 1-59"),
    ("cron(0 12 * * ?)", "a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), not 5"),
    ("cron(15 12 ? * -1 *)", "the day-of-week value '' is not a number 1-7 or SUN-SAT"),
    # the rest of SCH-3 .. SCH-6
    ("cron(0 0 ? * ? *)", "one of day-of-month and day-of-week must be '?', and only one"),
    ("cron(0 24 * * ? *)", "the hours value 24 is not in 0-23"),
    ("cron(0 0 0 * ? *)", "the day-of-month value 0 is not in 1-31"),
    ("cron(0 0 32 * ? *)", "the day-of-month value 32 is not in 1-31"),
    ("cron(0 0 1 13 ? *)", "the month value 13 is not in 1-12"),
    ("cron(0 0 1 JANUARY ? *)", "the month value 'JANUARY' is not a number 1-12 or JAN-DEC"),
    ("cron(0 0 ? * 0 *)", "the day-of-week value 0 is not in 1-7"),
    ("cron(0 0 ? * 8 *)", "the day-of-week value 8 is not in 1-7"),
    ("cron(0 0 * * ? 1969)", "the year value 1969 is not in 1970-2199"),
    ("cron(0 0 * * ? 2200)", "the year value 2200 is not in 1970-2199"),
    ("cron(0 0 * * ? 2030-2026)", "the year range '2030-2026' ends before it starts"),
    ("cron(0 0 ? * 3#1,6#3 *)", "with '#' the day-of-week field holds one expression only"),
    ("cron(0 0 ? * 3#6 *)", "the day-of-week '#' takes an instance 1-5, not '6'"),
    ("cron(0 0 ? * 1/2 *)", "the day-of-week field does not take '/'"),
    ("cron(0 0 ? * 2L,3 *)", "nL (the last n-day of the month) cannot be combined with other days"),
    ("cron(0 0 L,15 * ? *)", "L and W cannot be combined with other days of the month"),
    ("cron(0 0 15X * ? *)", "the day-of-month value '15X' is not a number 1-31"),
    ("cron(0 0 32W * ? *)", "the day-of-month value 32 is not in 1-31"),
    ("cron(0 0 L-31 * ? *)", "the day-of-month offset L-n takes n from 0 to 30"),
    ("cron(0/0 * * * ? *)", "the minutes increment '0' is not a number 1-59"),
    ("cron(1,,2 * * * ? *)", "the minutes field '' has an empty list item"),
    ("cron( 0 12 * * ? * )", "no space may follow 'cron(' or precede ')'"),
])
def test_invalid_crons(text: str, message: str) -> None:
    with pytest.raises(ScheduleError) as info:
        parse_schedule(text)
    assert str(info.value) == message


# -- the Scheduled Event (SCH-8) ----------------------------------------------------------------

def test_scheduled_event_is_exactly_aws_s() -> None:
    arn = rule_arn("eu-west-1", "123456789012", "nightly")
    assert arn == "arn:aws:events:eu-west-1:123456789012:rule/nightly"
    event = scheduled_event(rule_arn=arn, region="eu-west-1", account_id="123456789012",
                            event_id="53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", time=at("2026-11-23T12:00:00.5"))
    assert list(event.items()) == [
        ("version", "0"),
        ("id", "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa"),
        ("detail-type", "Scheduled Event"),
        ("source", "aws.events"),
        ("account", "123456789012"),
        ("time", "2026-11-23T12:00:00Z"),
        ("region", "eu-west-1"),
        ("resources", ["arn:aws:events:eu-west-1:123456789012:rule/nightly"]),
        ("detail", {}),
    ]


def test_powertools_parses_the_event() -> None:
    event = scheduled_event(rule_arn=rule_arn("us-east-1", "123456789012", "r"), region="us-east-1",
                            account_id="123456789012", event_id="53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
                            time=at("2026-11-23T12:05:00"))
    model = EventBridgeModel.model_validate(json.loads(json.dumps(event)))
    assert model.detail_type == "Scheduled Event"
    assert model.source == "aws.events"
    assert model.account == "123456789012"
    assert model.time == at("2026-11-23T12:05:00")
    assert model.resources == ["arn:aws:events:us-east-1:123456789012:rule/r"]
    assert model.detail == {}


def test_event_time_and_rule_names() -> None:
    assert event_time(datetime(2026, 1, 2, 3, 4, 5, 999999, tzinfo=UTC)) == "2026-01-02T03:04:05Z"
    assert default_rule_name("app", 0) == "app-schedule-1"
    long = "f" * 64
    assert default_rule_name(long, 11) == "f" * 52 + "-schedule-12"
    assert len(default_rule_name(long, 11)) == 64


# -- config (gateway/config.py) -----------------------------------------------------------------

def _config(tmp_path: Path, schedule: object, **more: object) -> GatewayConfig:
    fn = {"handler": "app.handler", "code_uri": str(tmp_path), "schedule": schedule}
    return GatewayConfig.from_mapping({"functions": {"app": fn, **more}}, source="gw.toml")


def test_config_string_list_and_tables(tmp_path: Path) -> None:
    one = _config(tmp_path, "rate(5 minutes)").functions["app"].schedule
    assert one == (ScheduleConfig(expression="rate(5 minutes)", name="app-schedule-1"),)
    many = _config(tmp_path, ["rate(1 minute)", {"expression": "cron(0 9 ? * MON-FRI *)", "name": "report",
                                                  "input": '{"a": 1}', "enabled": False}]).functions["app"]
    assert many.schedule == (
        ScheduleConfig(expression="rate(1 minute)", name="app-schedule-1"),
        ScheduleConfig(expression="cron(0 9 ? * MON-FRI *)", name="report", input='{"a": 1}', enabled=False),
    )
    assert _config(tmp_path, []).functions["app"].schedule == ()


@pytest.mark.parametrize(("schedule", "key", "problem"), [
    ("rate(1 minutes)", "functions.app.schedule[0]",
     f"'rate(1 minutes)' is not a valid schedule expression: a value of 1 takes the singular unit: "
     f"rate(1 minute) (EventBridge: {AWS_MESSAGE!r})"),
    (["rate(5 minutes)", "cron(0 12 * * * *)"], "functions.app.schedule[1]",
     "'cron(0 12 * * * *)' is not a valid schedule expression: one of day-of-month and day-of-week must be "
     "'?', and only one (EventBridge: 'Parameter ScheduleExpression is not valid.')"),
    ([{"expression": "rate(5 hour)"}], "functions.app.schedule[0].expression",
     "'rate(5 hour)' is not a valid schedule expression: a value over 1 takes the plural unit: rate(5 hours) "
     "(EventBridge: 'Parameter ScheduleExpression is not valid.')"),
    ([{"expression": "rate(5 hours)", "name": "has space"}], "functions.app.schedule[0].name",
     "a rule name is 1-64 letters, digits, '.', '-' or '_'"),
    ([{"expression": "rate(5 hours)", "input": "{nope"}], "functions.app.schedule[0].input",
     "is not valid JSON text (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"),
    ([{"expression": "rate(5 hours)", "name": "x"}, {"expression": "rate(1 hour)", "name": "x"}],
     "functions.app.schedule[1].name", "the rule name 'x' is already used by functions.app.schedule[0]"),
    ([{"expression": "rate(5 hours)", "name": "app-schedule-2"}, "rate(1 hour)"],
     "functions.app.schedule[1]", "the rule name 'app-schedule-2' is already used by functions.app.schedule[0]"),
    ([{"name": "x"}], "functions.app.schedule[0].expression", "is required"),
    (5, "functions.app.schedule", "must be a list, not an integer"),
    ([5], "functions.app.schedule[0]", "must be a string, not an integer"),
])
def test_config_errors_name_the_entry(tmp_path: Path, schedule: object, key: str, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        _config(tmp_path, schedule)
    assert (info.value.file, info.value.key, info.value.problem) == ("gw.toml", key, problem)


def test_config_schedules_are_a_function_wide_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        GatewayConfig.from_mapping({"functions": {"app": {
            "handler": "app.handler", "code_uri": str(tmp_path),
            "versions": {"1": {"schedule": "rate(5 minutes)"}}}}})
    assert info.value.key == "functions.app.versions.1.schedule"
