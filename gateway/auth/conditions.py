"""IAM Condition operators, compiled once when a policy is loaded, evaluated per request. Pure.

Rules (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html,
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html,
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html):

* Operators of one block are ANDed, keys under one operator are ANDed, values of one key are ORed.
* Condition key names are case-insensitive; values follow the operator (``StringEquals`` is
  case-sensitive, ``StringEqualsIgnoreCase`` is not, ARNs are case-sensitive).
* A key missing from the request context makes a condition false, except for the negated
  operators (``StringNotEquals``, ``NotIpAddress``, ``ArnNotLike``...) and the ``...IfExists`` forms,
  which are true then. ``Null`` tests presence: ``"true"`` holds when the key is absent.
* ``ForAllValues:`` holds when every value of a (multi-valued) key matches one of the policy's
  values, and when the key is absent; ``ForAnyValue:`` when at least one does, never when absent.
  A negated operator under a set prefix negates per value.
* Policy variables may appear in the values of string and ARN operators.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway.auth.patterns import ArnPattern, Context, Template, Unresolved

#: one context value -> does it match one of the policy's values?
Test = Callable[[str, Context], bool]

_NEGATED = {
    "StringNotEquals": "StringEquals", "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike", "NumericNotEquals": "NumericEquals", "DateNotEquals": "DateEquals",
    "NotIpAddress": "IpAddress", "ArnNotEquals": "ArnEquals", "ArnNotLike": "ArnLike",
}
_NUMERIC: dict[str, Callable[[float, float], bool]] = {
    "Equals": lambda a, b: a == b, "LessThan": lambda a, b: a < b, "LessThanEquals": lambda a, b: a <= b,
    "GreaterThan": lambda a, b: a > b, "GreaterThanEquals": lambda a, b: a >= b,
}


@dataclass(frozen=True, slots=True)
class Condition:
    """One key under one operator: ``{"StringEquals": {"aws:username": ["a", "b"]}}`` -> one Condition."""

    operator: str  # as written, for the log
    key: str  # lowercase
    test: Test
    negated: bool = False
    if_exists: bool = False
    set_op: str | None = None  # "ForAnyValue" | "ForAllValues"
    null: frozenset[bool] | None = None  # Null: the accepted states of "the key is absent"

    def holds(self, context: Context) -> bool:
        values = context.get(self.key)
        if self.null is not None:
            return (values is None) in self.null
        if not values:
            if self.set_op == "ForAllValues":
                return True
            if self.set_op == "ForAnyValue":
                return False
            return self.negated or self.if_exists
        if self.set_op == "ForAllValues":
            return all(self._one(v, context) for v in values)
        if self.set_op == "ForAnyValue" or not self.negated:
            return any(self._one(v, context) for v in values)
        return all(self._one(v, context) for v in values)

    def _one(self, value: str, context: Context) -> bool:
        try:
            matched = self.test(value, context)
        except Unresolved:
            matched = False
        return not matched if self.negated else matched


def parse_conditions(block: Any, *, variables: bool) -> tuple[Condition, ...]:
    """The Condition element. Raises ValueError naming the operator or key at fault."""
    if not isinstance(block, dict):
        raise ValueError("Condition must be an object of operator -> {key: value(s)}")
    out: list[Condition] = []
    for operator, keys in block.items():
        if not isinstance(keys, dict) or not keys:
            raise ValueError(f"{operator}: must be an object of condition key -> value(s)")
        for key, raw in keys.items():
            values = _values(raw, f"{operator}.{key}")
            out.append(_condition(str(operator), str(key), values, variables))
    return tuple(out)


def _values(raw: Any, where: str) -> list[str]:
    items = raw if isinstance(raw, list) else [raw]
    out = []
    for item in items:
        if isinstance(item, bool):
            out.append("true" if item else "false")
        elif isinstance(item, (str, int, float)):
            out.append(str(item))
        else:
            raise ValueError(f"{where}: values must be strings, numbers or booleans")
    return out


def _condition(operator: str, key: str, values: list[str], variables: bool) -> Condition:
    base = operator
    set_op = None
    if ":" in base:
        set_op, _, base = base.partition(":")
        if set_op not in ("ForAnyValue", "ForAllValues"):
            raise ValueError(f"{operator}: unknown set operator {set_op!r} (ForAnyValue, ForAllValues)")
    if_exists = base.endswith("IfExists") and base != "IfExists"
    base = base.removesuffix("IfExists") if if_exists else base
    if base == "Null":
        if if_exists or set_op:
            raise ValueError(f"{operator}: Null takes neither IfExists nor a set operator")
        states = frozenset(_bool(v, f"{operator}.{key}") for v in values)
        return Condition(operator, key.lower(), lambda value, ctx: True, null=states)
    negated = base in _NEGATED
    positive = _NEGATED.get(base, base)
    test: Test = _test(positive, values, variables, f"{operator}.{key}")
    return Condition(operator, key.lower(), test, negated=negated, if_exists=if_exists, set_op=set_op)


def _test(operator: str, values: list[str], variables: bool, where: str) -> Test:
    if operator in ("StringEquals", "StringEqualsIgnoreCase", "StringLike"):
        templates = [Template(v, variables=variables) for v in values]
        if operator == "StringLike":
            return lambda value, ctx: any(t.regex(ctx).fullmatch(value) is not None for t in templates)
        if operator == "StringEqualsIgnoreCase":
            return lambda value, ctx: any(t.text(ctx).casefold() == value.casefold() for t in templates)
        if not any(t.has_variables for t in templates):
            fixed = frozenset(values)
            return lambda value, ctx: value in fixed
        return lambda value, ctx: any(t.text(ctx) == value for t in templates)
    if operator in ("ArnEquals", "ArnLike"):  # the same operator in IAM: both take wildcards
        arns = [ArnPattern(v, variables=variables) for v in values]
        return lambda value, ctx: any(a.matches(value, ctx) for a in arns)
    if operator.startswith("Numeric") and operator[7:] in _NUMERIC:
        return _compare(_NUMERIC[operator[7:]], [_number(v, where) for v in values], _parse_number)
    if operator.startswith("Date") and operator[4:] in _NUMERIC:
        return _compare(_NUMERIC[operator[4:]], [_date(v, where) for v in values], _parse_date)
    if operator == "Bool":
        flags = {"true" if _bool(v, where) else "false" for v in values}
        return lambda value, ctx: value.lower() in flags
    if operator == "BinaryEquals":
        blobs = {_binary(v, where) for v in values}
        return lambda value, ctx: _binary_or_none(value) in blobs
    if operator == "IpAddress":
        networks = [_network(v, where) for v in values]
        return lambda value, ctx: _in_networks(value, networks)
    raise ValueError(f"{where}: unknown condition operator")


def _compare(op: Callable[[float, float], bool], wanted: list[float], parse: Callable[[str], float | None]) -> Test:
    def test(value: str, ctx: Context) -> bool:
        got = parse(value)
        return got is not None and any(op(got, w) for w in wanted)

    return test


def _parse_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _number(text: str, where: str) -> float:
    value = _parse_number(text)
    if value is None:
        raise ValueError(f"{where}: {text!r} is not a number")
    return value


def _parse_date(text: str) -> float | None:
    """Epoch seconds of an ISO 8601 date/time (``2026-05-01``, ``2026-05-01T12:00:00Z``) or of epoch text."""
    number = _parse_number(text)
    if number is not None:
        return number
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def _date(text: str, where: str) -> float:
    value = _parse_date(text)
    if value is None:
        raise ValueError(f"{where}: {text!r} is not an ISO 8601 date or epoch seconds")
    return value


def _bool(text: str, where: str) -> bool:
    if text.lower() not in ("true", "false"):
        raise ValueError(f"{where}: {text!r} is not true or false")
    return text.lower() == "true"


def _binary(text: str, where: str) -> bytes:
    blob = _binary_or_none(text)
    if blob is None:
        raise ValueError(f"{where}: {text!r} is not base64")
    return blob


def _binary_or_none(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _network(text: str, where: str) -> _Network:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueError(f"{where}: {text!r} is not an IP address or CIDR block") from None


def _in_networks(value: str, networks: list[_Network]) -> bool:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address.version == net.version and address in net for net in networks)


def context_of(values: Mapping[str, str | bool | int | list[str] | tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """A request context from plain values: keys lowercased, booleans as ``"true"``/``"false"``."""
    out: dict[str, tuple[str, ...]] = {}
    for key, value in values.items():
        if isinstance(value, bool):
            out[key.lower()] = ("true" if value else "false",)
        elif isinstance(value, (list, tuple)):
            out[key.lower()] = tuple(value)
        else:
            out[key.lower()] = (str(value),)
    return out
