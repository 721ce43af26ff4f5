"""IAM policy evaluation, pure: no clock, no I/O (STYLE H2). The time is a context key the caller passes.

``parse_policy`` validates a policy document once, at config load (``PolicyError`` names the element
at fault); ``evaluate`` decides one request against a principal's identity-based policies and the
resource's resource-based policy, as AWS does
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html,
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html):

1. Every request starts as an implicit deny, except the account's root user within its account.
2. An explicit ``Deny`` in any applicable policy wins.
3. Within one account an ``Allow`` in the identity-based *or* the resource-based policy is enough;
   a resource-based policy that names only the account delegates to the identity-based policies.
4. Across accounts both must allow: the caller's account (identity-based) and the resource's
   (resource-based). Anonymous callers have no identity-based policies: only the resource-based
   policy can allow them.

Matching: Action/NotAction case-insensitively with ``*``/``?``
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html), Resource/
NotResource as ARNs (patterns.py), Principal/NotPrincipal (principals.py), Condition (conditions.py).
Permissions boundaries, session policies and SCPs are not modelled.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from gateway.auth.conditions import Condition, parse_conditions
from gateway.auth.patterns import ArnPattern, Context, Unresolved, wildcard
from gateway.auth.principals import Level, Principal, PrincipalSet, parse_principal

VERSIONS = ("2012-10-17", "2008-10-17")
_STATEMENT_KEYS = {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource",
                   "NotResource", "Condition"}
_ACTION = re.compile(r"^(\*|[A-Za-z0-9*?-]+:[A-Za-z0-9*?]*)$")


class PolicyError(ValueError):
    """A policy document is not valid IAM JSON. The message names the element (``Statement[1].Action``)."""


@dataclass(frozen=True, slots=True)
class _Actions:
    exact: frozenset[str]  # lowercase
    patterns: tuple[re.Pattern[str], ...]

    def match(self, action: str) -> bool:
        lowered = action.lower()
        return lowered in self.exact or any(p.fullmatch(lowered) for p in self.patterns)


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement, compiled. ``index`` is its position in the policy (0-based)."""

    index: int
    sid: str | None
    allow: bool
    actions: _Actions
    not_action: bool
    resources: tuple[ArnPattern, ...]
    not_resource: bool
    principals: PrincipalSet | None
    conditions: tuple[Condition, ...]

    def applies(self, principal: Principal, action: str, resource: str, context: Context) -> Level:
        """How the statement applies to the request (``Level.NONE``: it does not). Raises Unresolved."""
        if self.actions.match(action) == self.not_action:
            return Level.NONE
        matched = False
        for pattern in self.resources:
            if pattern.matches(resource, context):
                matched = True
                break
        if matched == self.not_resource:
            return Level.NONE
        level = Level.ENTITY if self.principals is None else self.principals.applies(principal)
        if level is Level.NONE:
            return level
        for condition in self.conditions:
            if not condition.holds(context):
                return Level.NONE
        return level


@dataclass(frozen=True, slots=True)
class Policy:
    """A validated policy. ``name`` says where it came from (``identities[0].policies[1]``)."""

    name: str
    statements: tuple[Statement, ...]
    kind: Literal["identity", "resource"] = "identity"


@dataclass(frozen=True, slots=True)
class Decided:
    """A statement that took part in a decision, for the log (AWS never tells which one)."""

    policy: str
    index: int
    sid: str | None
    allow: bool

    def __str__(self) -> str:
        sid = f"{self.sid!r} " if self.sid else ""
        return f"statement {sid}#{self.index} ({'Allow' if self.allow else 'Deny'}) of {self.policy}"


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome. ``statement`` is the deny that decided, or the allow(s) that granted."""

    allowed: bool
    explicit_deny: bool
    reason: str
    statements: tuple[Decided, ...] = ()

    def __str__(self) -> str:
        by = "; ".join(str(s) for s in self.statements)
        return f"{self.reason}" + (f": {by}" if by else "")


@dataclass(frozen=True, slots=True)
class AccessRequest:
    """What is asked: a principal, an action, a resource ARN, the request context (lowercase keys)."""

    principal: Principal
    action: str
    resource: str
    context: Context


def parse_policy(document: str | Mapping[str, Any], *, name: str,
                 kind: Literal["identity", "resource"] = "identity") -> Policy:
    """Validate and compile a policy (JSON text or a decoded object). Raises PolicyError."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError as exc:
            raise PolicyError(f"not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise PolicyError("a policy is a JSON object with Version and Statement")
    unknown = set(document) - {"Version", "Id", "Statement"}
    if unknown:
        raise PolicyError(f"unknown top-level element(s) {', '.join(sorted(unknown))} (Version, Id, Statement)")
    version = document.get("Version", "2008-10-17")
    if version not in VERSIONS:
        raise PolicyError(f"Version must be one of {', '.join(VERSIONS)}, not {version!r}")
    raw = document.get("Statement")
    items = raw if isinstance(raw, list) else [raw] if isinstance(raw, dict) else None
    if not items:
        raise PolicyError("Statement must be an object or a non-empty list of objects")
    variables = version == "2012-10-17"  # policy variables exist only in the current language version
    statements = tuple(_statement(item, i, kind, variables) for i, item in enumerate(items))
    return Policy(name=name, statements=statements, kind=kind)


def _statement(raw: Any, index: int, kind: str, variables: bool) -> Statement:
    where = f"Statement[{index}]"
    if not isinstance(raw, dict):
        raise PolicyError(f"{where}: must be an object")
    unknown = set(raw) - _STATEMENT_KEYS
    if unknown:
        raise PolicyError(f"{where}: unknown element(s) {', '.join(sorted(unknown))}")
    if raw.get("Effect") not in ("Allow", "Deny"):
        raise PolicyError(f"{where}.Effect: must be \"Allow\" or \"Deny\"")
    action_key = _one_of(raw, "Action", "NotAction", where)
    resource_key = _one_of(raw, "Resource", "NotResource", where)
    principal_key = _principal_key(raw, kind, where)
    actions = _actions(raw[action_key], f"{where}.{action_key}")
    resource_values = _strings(raw[resource_key], f"{where}.{resource_key}")
    resources = tuple(ArnPattern(r, variables=variables) for r in resource_values)
    principals = None
    if principal_key is not None:
        try:
            principals = parse_principal(raw[principal_key], negated=principal_key == "NotPrincipal")
        except ValueError as exc:
            raise PolicyError(f"{where}.{principal_key}: {exc}") from None
    try:
        conditions = parse_conditions(raw["Condition"], variables=variables) if "Condition" in raw else ()
    except ValueError as exc:
        raise PolicyError(f"{where}.Condition: {exc}") from None
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise PolicyError(f"{where}.Sid: must be a string")
    return Statement(index=index, sid=sid, allow=raw["Effect"] == "Allow", actions=actions,
                     not_action=action_key == "NotAction", resources=resources,
                     not_resource=resource_key == "NotResource", principals=principals, conditions=conditions)


def _one_of(raw: Mapping[str, Any], a: str, b: str, where: str) -> str:
    if (a in raw) == (b in raw):
        raise PolicyError(f"{where}: needs exactly one of {a} and {b}")
    return a if a in raw else b


def _principal_key(raw: Mapping[str, Any], kind: str, where: str) -> str | None:
    given = [k for k in ("Principal", "NotPrincipal") if k in raw]
    if kind == "identity":
        if given:
            raise PolicyError(f"{where}.{given[0]}: an identity-based policy must not specify a principal")
        return None
    if len(given) != 1:
        raise PolicyError(f"{where}: a resource-based policy needs exactly one of Principal and NotPrincipal")
    return given[0]


def _strings(raw: Any, where: str) -> list[str]:
    items = raw if isinstance(raw, list) else [raw]
    if not items or not all(isinstance(i, str) and i for i in items):
        raise PolicyError(f"{where}: must be a non-empty string or list of non-empty strings")
    return items


def _actions(raw: Any, where: str) -> _Actions:
    exact: set[str] = set()
    patterns: list[re.Pattern[str]] = []
    for action in _strings(raw, where):
        if not _ACTION.match(action):
            raise PolicyError(f"{where}: {action!r} is not \"*\" or service:Action (lambda:InvokeFunctionUrl)")
        if "*" in action or "?" in action:
            patterns.append(wildcard(action.lower()))
        else:
            exact.add(action.lower())
    return _Actions(frozenset(exact), tuple(patterns))


# ------------------------------------------------------------------------------------------------
# Evaluation


_Found = tuple["Policy", "Statement", Level]


def _scan(policies: Sequence[Policy], request: AccessRequest) -> tuple[_Found | None, list[_Found]]:
    """One pass: the first Deny that applies (the scan stops there), and every Allow that applies."""
    allows: list[_Found] = []
    for policy in policies:
        for st in policy.statements:
            try:
                level = st.applies(request.principal, request.action, request.resource, request.context)
            except Unresolved:  # "the entire statement might be invalid": it applies to nothing
                continue
            if level is Level.NONE:
                continue
            if not st.allow:
                return (policy, st, level), allows
            allows.append((policy, st, level))
    return None, allows


def _refs(*found: _Found) -> tuple[Decided, ...]:
    return tuple(Decided(policy.name, st.index, st.sid, st.allow) for policy, st, _ in found)


def evaluate(request: AccessRequest, identity_policies: Sequence[Policy], resource_policy: Policy | None,
             resource_account: str) -> Decision:
    """Allow or deny ``request`` (see the module docstring for the order of the rules)."""
    deny, identity = _scan(identity_policies, request)
    resource: list[_Found] = []
    if deny is None and resource_policy is not None:
        deny, resource = _scan([resource_policy], request)
    if deny is not None:
        return Decision(False, True, "explicit deny", _refs(deny))
    principal = request.principal
    granted = [found for found in resource if found[2] is Level.ENTITY]
    if principal.anonymous:
        if granted:
            return Decision(True, False, "allowed by the resource-based policy", _refs(granted[0]))
        return Decision(False, False, "implicit deny: no resource-based statement allows the anonymous caller")
    same_account = principal.account == resource_account
    if principal.is_root and same_account:
        return Decision(True, False, "allowed: the account's root user")
    identity_ok = bool(identity) or principal.is_root
    if same_account:
        if identity or granted:
            return Decision(True, False, "allowed", _refs((identity or granted)[0]))
        return Decision(False, False, "implicit deny: no identity-based or resource-based statement allows it")
    if identity_ok and resource:
        return Decision(True, False, "allowed across accounts", _refs(*identity[:1], resource[0]))
    missing = "an identity-based" if not identity_ok else "a resource-based"
    return Decision(False, False, f"implicit deny across accounts: {missing} Allow is missing",
                    _refs(*identity[:1], *resource[:1]))
