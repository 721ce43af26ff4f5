"""Routing: API Gateway route keys and resources, ALB listener rules. Pure (STYLE H2, H3).

Everything is compiled once, in the constructors; ``match()`` does dictionary look-ups only.

* ``HttpApiRouter`` / ``RestRouter`` share a segment trie. A node has literal children (a dict),
  at most one ``{param}`` child and the routes that end there, keyed by method. Matching walks the
  request's segments; the cost depends on the path's depth, not on how many routes there are.
  Literal-only routes are also kept in one dict keyed by path, so ``GET /health`` is one look-up.
* ``AlbRouter`` evaluates rules by priority, but only the rules whose path pattern could match:
  rules are indexed by exact path and by the first path segment of their pattern's literal prefix.

Precedence (HTTP API: https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html,
"Routing API requests"; REST: measured on real API Gateway, see ``RestRouter``):

1. A full match (no greedy variable) beats a greedy ``{proxy+}`` match, which beats ``$default``.
2. Among full matches, at each segment from the left a literal beats ``{param}``; among greedy
   matches a deeper resource beats a shallower one, literal before ``{param}`` before the greedy
   variable itself.
3. On one resource the request's own method beats ``ANY``. A resource that has neither does not
   stop the search: the next most specific resource that serves the method is taken.

A trailing slash is ignored (``/pets/`` routes like ``/pets``); a greedy variable needs at least one
segment (``/{proxy+}`` does not match ``/``, ``/pets/{proxy+}`` does not match ``/pets``) and captures
the rest of the path without its leading and trailing ``/``, inner ``//`` kept (REST-5).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from gateway.models import HttpRequest, RouteMatch

if TYPE_CHECKING:  # config.py may import the validators below without a cycle
    from gateway.config import AlbRule, HttpApiRoute, RestRoute

# Methods a route may name (config.py accepts the same set).
ROUTE_METHODS = frozenset({"ANY", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"})
# REST ANY stands for the seven methods API Gateway supports (PutMethod httpMethod).
REST_ANY_METHODS = ROUTE_METHODS - {"ANY"}

_LITERAL, _PARAM, _GREEDY = 0, 1, 2
_Segment = tuple[int, str]
_VARIABLE = re.compile(r"\{([A-Za-z0-9._-]+)(\+?)\}")
# REST path parts: "only allow a-zA-Z0-9._- and curly braces" (CreateResource error text), ':' since
# 2022 (aws-cdk #22477) and '$' (aws-cdk #27083, accepted by the API).
_REST_LITERAL = re.compile(r"[A-Za-z0-9._:$-]+")
# HTTP API route paths: not documented; refuse only what cannot be a decoded path segment.
_HTTP_LITERAL = re.compile(r"[^\x00-\x20\x7f{}?#/]+")


# --------------------------------------------------------------------------------------------
# Route templates


def _parse_template(path: str, literal: re.Pattern[str]) -> list[_Segment]:
    """``"/items/{id}/{rest+}"`` -> ``[(LITERAL, "items"), (PARAM, "id"), (GREEDY, "rest")]``.

    Raises ValueError. Rules: a variable is a whole segment, ``{name+}`` only as the last one
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html);
    no empty segment and no trailing ``/`` (API Gateway refuses ``GET /metrics/``; the request
    ``/metrics/`` is routed to ``/metrics`` anyway).
    """
    if not path.startswith("/"):
        raise ValueError("must start with '/'")
    if path == "/":
        return []
    if path.endswith("/"):
        raise ValueError("must not end with '/' (a request with a trailing slash is routed without it)")
    parts = path[1:].split("/")
    segments: list[_Segment] = []
    for i, part in enumerate(parts):
        if not part:
            raise ValueError("has an empty segment ('//')")
        if "{" in part or "}" in part:
            var = _VARIABLE.fullmatch(part)
            if var is None:
                raise ValueError(f"segment {part!r}: a path variable is a whole segment, '{{name}}' or '{{name+}}'")
            name, greedy = var.groups()
            if any(seg[1] == name and seg[0] != _LITERAL for seg in segments):
                raise ValueError(f"names the variable {{{name}}} twice")
            if greedy and i != len(parts) - 1:
                raise ValueError(f"segment {part!r}: a greedy variable must be the last segment")
            segments.append((_GREEDY if greedy else _PARAM, name))
        elif not literal.fullmatch(part):
            raise ValueError(f"segment {part!r} has characters API Gateway does not accept in a path")
        else:
            segments.append((_LITERAL, part))
    return segments


def validate_http_route_key(key: str) -> str | None:
    """Why an HTTP API route key is invalid, or None. ``"$default"`` or ``"METHOD /path"``."""
    if key == "$default":
        return None
    method, sep, path = key.partition(" ")
    if not sep or method not in ROUTE_METHODS:
        methods = ", ".join(sorted(ROUTE_METHODS))
        return f"{key!r} is not '$default' or 'METHOD /path' with METHOD one of {methods}"
    try:
        _parse_template(path, _HTTP_LITERAL)
    except ValueError as exc:
        return f"{key!r}: the path {exc}"
    return None


def validate_rest_path(path: str) -> str | None:
    """Why a REST resource path is invalid, or None (see ``_parse_template`` and ``_REST_LITERAL``)."""
    try:
        _parse_template(path, _REST_LITERAL)
    except ValueError as exc:
        return f"{path!r} {exc}"
    return None


def validate_http_routes(routes: Sequence[HttpApiRoute]) -> str | None:
    """Cross-route problems (duplicates, two routes one shape), or None. Validate each key first."""
    try:
        HttpApiRouter(routes)
    except ValueError as exc:
        return str(exc)
    return None


def validate_rest_routes(routes: Sequence[RestRoute]) -> str | None:
    """Cross-route problems (duplicate method, sibling variables), or None. Validate each path first."""
    try:
        RestRouter(routes)
    except ValueError as exc:
        return str(exc)
    return None


# --------------------------------------------------------------------------------------------
# The segment trie shared by both API Gateway routers


@dataclass(slots=True, eq=False)
class _Target:
    function: str
    route_key: str
    route: Any
    names: tuple[str, ...]  # the {param} names, left to right
    greedy: str | None  # the {name+} name
    fixed: RouteMatch | None  # prebuilt when the route has no variables


class _Node:
    __slots__ = ("children", "param", "methods", "greedy")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.param: _Node | None = None
        self.methods: dict[str, _Target] = {}  # routes ending here
        self.greedy: dict[str, _Target] = {}  # routes with a {name+} below here


class _RouteTrie:
    def __init__(self, *, any_methods: frozenset[str] | None, decode_literals: bool) -> None:
        self._root = _Node()
        self._static: dict[str, dict[str, _Target]] = {}
        self._any = any_methods  # None: ANY serves every method
        self._decode = decode_literals

    def add(self, method: str, segments: Sequence[_Segment], target: _Target) -> None:
        node = self._root
        for kind, text in segments:
            if kind == _LITERAL:
                node = node.children.setdefault(text, _Node())
            elif kind == _PARAM:
                if node.param is None:
                    node.param = _Node()
                node = node.param
        table = node.greedy if target.greedy is not None else node.methods
        if method in table:
            raise ValueError(f"route {target.route_key!r} conflicts with {table[method].route_key!r}")
        table[method] = target
        if all(kind == _LITERAL for kind, _ in segments):
            self._static["/" + "/".join(text for _, text in segments)] = node.methods

    def match(self, method: str, path: str) -> RouteMatch | None:
        if not path.startswith("/"):
            path = "/" + path
        norm = path.rstrip("/")
        table = self._static.get(norm or "/")
        if table:
            target = self._pick(table, method)
            if target is not None:
                return target.fixed
        segs = norm.split("/")[1:]
        values: list[str] = []
        target = self._full(self._root, segs, 0, values, method)
        if target is not None:
            return _result(target, values, None)
        found = self._greedy(self._root, segs, 0, values, method)
        if found is None:
            return None
        return _result(found[0], values, found[1])

    def _pick(self, table: Mapping[str, _Target], method: str) -> _Target | None:
        target = table.get(method)
        if target is None and (self._any is None or method in self._any):
            target = table.get("ANY")
        return target

    def _child(self, node: _Node, seg: str) -> _Node | None:
        child = node.children.get(seg)
        if child is None and self._decode and "%" in seg:
            child = node.children.get(unquote(seg))
        return child

    def _full(self, node: _Node, segs: list[str], i: int, values: list[str], method: str) -> _Target | None:
        """Depth first, literal before {param}: the first hit is the most specific full match."""
        if i == len(segs):
            return self._pick(node.methods, method) if node.methods else None
        seg = segs[i]
        child = self._child(node, seg)
        if child is not None:
            target = self._full(child, segs, i + 1, values, method)
            if target is not None:
                return target
        if node.param is not None and seg:
            values.append(seg)
            target = self._full(node.param, segs, i + 1, values, method)
            if target is not None:
                return target
            values.pop()
        return None

    def _greedy(
        self, node: _Node, segs: list[str], i: int, values: list[str], method: str
    ) -> tuple[_Target, str] | None:
        """Deeper resources first; a greedy variable takes one segment or more."""
        if i == len(segs):
            return None
        seg = segs[i]
        child = self._child(node, seg)
        if child is not None:
            found = self._greedy(child, segs, i + 1, values, method)
            if found is not None:
                return found
        if node.param is not None and seg:
            values.append(seg)
            found = self._greedy(node.param, segs, i + 1, values, method)
            if found is not None:
                return found
            values.pop()
        if node.greedy:
            target = self._pick(node.greedy, method)
            if target is not None:
                return target, "/".join(segs[i:])
        return None


def _result(target: _Target, values: list[str], rest: str | None) -> RouteMatch:
    if target.fixed is not None:
        return target.fixed
    params = dict(zip(target.names, values, strict=True))
    if target.greedy is not None and rest is not None:
        params[target.greedy] = rest
    return RouteMatch(function=target.function, route_key=target.route_key, path_parameters=params, route=target.route)


def _target(function: str, route_key: str, route: Any, segments: Sequence[_Segment]) -> _Target:
    names = tuple(text for kind, text in segments if kind == _PARAM)
    greedy = next((text for kind, text in segments if kind == _GREEDY), None)
    fixed = None
    if not names and greedy is None:
        fixed = RouteMatch(function=function, route_key=route_key, path_parameters=None, route=route)
    return _Target(function, route_key, route, names, greedy, fixed)


# --------------------------------------------------------------------------------------------
# API Gateway routers


class HttpApiRouter:
    """HTTP API route selection, https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html

    ``match(method, path)`` takes the stage-stripped, percent-DECODED path (HV2-5); path parameter
    values are therefore decoded. ``ANY`` serves every method (the docs: "all methods that you
    haven't defined for a resource"); ``HEAD`` is not served by a ``GET`` route. The method is
    compared case-sensitively. ``$default`` answers only when no route matches.
    """

    def __init__(self, routes: Sequence[HttpApiRoute]) -> None:
        self._trie = _RouteTrie(any_methods=None, decode_literals=False)
        self._default: RouteMatch | None = None
        for route in routes:
            if route.route == "$default":
                if self._default is not None:
                    raise ValueError("route '$default' is defined twice")
                self._default = RouteMatch(function=route.function, route_key="$default", route=route)
                continue
            problem = validate_http_route_key(route.route)
            if problem is not None:
                raise ValueError(f"route {problem}")
            method, _, path = route.route.partition(" ")
            segments = _parse_template(path, _HTTP_LITERAL)
            self._trie.add(method, segments, _target(route.function, route.route, route, segments))

    def match(self, method: str, path: str) -> RouteMatch | None:
        return self._trie.match(method, path) or self._default


class RestRouter:
    """REST API resource and method selection for proxy integrations.

    ``match(method, path)`` takes the stage-stripped path still percent-ENCODED; path parameters
    are cut from it and not decoded (REST-5, recorded). ``route_key`` is the resource path.
    Resolution is on the resource+method pair: the most specific resource that has the method or
    ``ANY`` wins; ``GET /roles/provision`` goes to ``/roles/{roleId}`` when ``/roles/provision`` has
    only POST, and to ``/{proxy+}`` when no full match serves it (measured on AWS: floci-io/floci
    PR #3399, ministackorg/ministack PR #1423). ``ANY`` serves the seven REST methods only. A sibling
    of a ``{variable}`` resource cannot be another variable ("A sibling ({id}) of this resource already
    has a variable path part -- only one is allowed"). Proxy resources and ``ANY``:
    https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-set-up-simple-proxy.html
    """

    def __init__(self, routes: Sequence[RestRoute]) -> None:
        self._trie = _RouteTrie(any_methods=REST_ANY_METHODS, decode_literals=True)
        variables: dict[str, tuple[str, str]] = {}
        for route in routes:
            method = route.method.upper()
            if method not in ROUTE_METHODS:
                raise ValueError(f"resource {route.path!r}: {route.method!r} is not an HTTP method or ANY")
            try:
                segments = _parse_template(route.path, _REST_LITERAL)
            except ValueError as exc:
                raise ValueError(f"resource {route.path!r} {exc}") from None
            _check_siblings(route.path, variables)
            try:
                self._trie.add(method, segments, _target(route.function, route.path, route, segments))
            except ValueError:
                raise ValueError(f"method {method} {route.path!r} is defined twice") from None

    def match(self, method: str, path: str) -> RouteMatch | None:
        return self._trie.match(method, path)


def _check_siblings(path: str, seen: dict[str, tuple[str, str]]) -> None:
    parts = path.strip("/").split("/") if path != "/" else []
    for k, part in enumerate(parts):
        if part.startswith("{"):
            parent = "/" + "/".join(parts[:k])
            other, where = seen.setdefault(parent, (part, path))
            if other != part:
                raise ValueError(
                    f"resource {path!r}: a sibling ({other}, from {where!r}) of {part} under {parent!r} "
                    "already has a variable path part -- only one is allowed"
                )


# --------------------------------------------------------------------------------------------
# ALB listener rules


def _wildcard(pattern: str, *, ignore_case: bool, escapes: bool = False) -> re.Pattern[str]:
    """ALB wildcards: ``*`` = zero or more characters, ``?`` = exactly one, the whole value must match.

    With ``escapes``, ``\\*`` and ``\\?`` are literal (query-string values, QueryStringConditionConfig:
    https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_QueryStringConditionConfig.html).
    ``"a*b*c"`` compiles to ``a(?>.*?b).*c``: taking each middle chunk at its leftmost place is
    always right for globs, and the atomic group keeps a crafted path from backtracking for ever.
    """
    chunks: list[str] = [""]
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if escapes and ch == "\\" and pattern[i + 1 : i + 2] in ("*", "?"):
            chunks[-1] += re.escape(pattern[i + 1])
            i += 2
            continue
        if ch == "*":
            chunks.append("")
        else:
            chunks[-1] += "." if ch == "?" else re.escape(ch)
        i += 1
    regex = chunks[0]
    if len(chunks) > 1:
        regex += "".join(f"(?>.*?{chunk})" for chunk in chunks[1:-1] if chunk) + ".*" + chunks[-1]
    return re.compile(regex, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _count_wildcards(pattern: str, *, escapes: bool = False) -> int:
    if escapes:
        pattern = pattern.replace("\\*", "").replace("\\?", "")
    return pattern.count("*") + pattern.count("?")


_IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class _RequestView:
    """Request values the conditions need, derived at most once per ``match()``."""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        self._host: str | None = None
        self._host_done = False
        self._pairs: list[tuple[str, str]] | None = None
        self._ip: _IpAddress | None = None
        self._ip_done = False

    def host(self) -> str | None:
        """The Host header without its port: host patterns cannot contain ':' (see validate_alb_rule)."""
        if not self._host_done:
            self._host_done = True
            host = self.request.header("host")
            if host is not None and host.startswith("["):
                host = host[: host.find("]") + 1]
            elif host is not None and host.count(":") == 1:
                host = host.partition(":")[0]
            self._host = host
        return self._host

    def pairs(self) -> list[tuple[str, str]]:
        """Query ``(key, value)`` pairs, each both as sent and percent-decoded ('+' stays '+')."""
        if self._pairs is None:
            pairs: list[tuple[str, str]] = []
            for item in self.request.query_string.split("&"):
                if item:
                    key, _, value = item.partition("=")
                    pairs.append((key, value))
                    if "%" in item:
                        pairs.append((unquote(key), unquote(value)))
            self._pairs = pairs
        return self._pairs

    def ip(self) -> _IpAddress | None:
        """The client address; an IPv4-mapped IPv6 address counts as IPv4."""
        if not self._ip_done:
            self._ip_done = True
            try:
                addr = ipaddress.ip_address(self.request.client_ip)
            except ValueError:
                return None
            mapped = addr.ipv4_mapped if isinstance(addr, ipaddress.IPv6Address) else None
            self._ip = mapped or addr
        return self._ip


@dataclass(frozen=True, slots=True)
class _CompiledRule:
    rule: AlbRule
    methods: frozenset[str]
    paths: tuple[re.Pattern[str], ...]
    hosts: tuple[re.Pattern[str], ...]
    headers: tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]
    queries: tuple[tuple[re.Pattern[str] | None, re.Pattern[str]], ...]
    networks: tuple[_IpNetwork, ...]

    def matches(self, view: _RequestView) -> bool:
        """Every condition holds (AND); within one condition any value may match (OR)."""
        request = view.request
        if self.methods and request.method not in self.methods:
            return False
        if self.paths and not any(p.fullmatch(request.path) for p in self.paths):
            return False
        if self.hosts:
            host = view.host()
            if host is None or not any(p.fullmatch(host) for p in self.hosts):
                return False
        for name, patterns in self.headers:
            values = request.header_values(name)
            if not any(p.fullmatch(v) for v in values for p in patterns):
                return False
        if self.queries and not any(
            (kp is None or kp.fullmatch(k)) and vp.fullmatch(v) for kp, vp in self.queries for k, v in view.pairs()
        ):
            return False
        if self.networks:
            ip = view.ip()
            if ip is None or not any(ip in net for net in self.networks):
                return False
        return True


def _compile_rule(rule: AlbRule) -> _CompiledRule:
    return _CompiledRule(
        rule=rule,
        methods=frozenset(rule.method),
        paths=tuple(_wildcard(p, ignore_case=False) for p in rule.path),
        hosts=tuple(_wildcard(h, ignore_case=True) for h in rule.host),
        headers=tuple(
            (name, tuple(_wildcard(v, ignore_case=True) for v in values))
            for name, values in rule.http_header.items()
        ),
        queries=tuple(
            (
                None if q.key is None else _wildcard(q.key, ignore_case=True, escapes=True),
                _wildcard(q.value, ignore_case=True, escapes=True),
            )
            for q in rule.query_string
        ),
        networks=tuple(ipaddress.ip_network(cidr, strict=False) for cidr in rule.source_ip),
    )


def _path_index_keys(patterns: Sequence[str]) -> list[tuple[bool, str]] | None:
    """``(True, path)`` for a pattern without wildcards, ``(False, first segment)`` for one whose
    literal prefix spans its first segment (``/api/*``), None when some pattern can match any path."""
    keys: list[tuple[bool, str]] = []
    for pattern in patterns:
        cut = min((i for i in (pattern.find("*"), pattern.find("?")) if i >= 0), default=-1)
        if cut < 0:
            keys.append((True, pattern))
            continue
        prefix = pattern[:cut]
        end = prefix.find("/", 1)
        if not prefix.startswith("/") or end < 0:
            return None
        keys.append((False, prefix[1:end]))
    return keys or None


class AlbRouter:
    """ALB listener rules, evaluated by priority, lowest first; the first rule whose conditions all
    hold wins (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-rules.html).

    Conditions (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html):
    ``path`` case-sensitive, on the path only (as sent, percent-encoding kept, like the event's
    ``path``, ALB-5); ``host`` case-insensitive, port ignored; ``method`` exact, case-sensitive;
    ``http_header`` name and value case-insensitive, any one line of the header may match;
    ``query_string`` key and value case-insensitive, compared with the pair as sent and with its
    percent-decoded form, a condition without ``key`` matches any key; ``source_ip`` CIDR on the
    connection's address (not X-Forwarded-For). ``*`` and ``?`` work in path, host, header values and
    query keys/values. ``match`` returns None when no rule matches: the default action applies.
    """

    def __init__(self, rules: Sequence[AlbRule]) -> None:
        ordered = sorted(rules, key=lambda r: r.priority)
        self._rules = tuple(_compile_rule(rule) for rule in ordered)
        exact: dict[str, list[int]] = {}
        by_segment: dict[str, list[int]] = {}
        unindexed: list[int] = []
        for i, rule in enumerate(ordered):
            keys = _path_index_keys(rule.path)
            if keys is None:
                unindexed.append(i)
                continue
            for is_exact, key in keys:
                bucket = (exact if is_exact else by_segment).setdefault(key, [])
                if not bucket or bucket[-1] != i:
                    bucket.append(i)
        self._exact = exact
        self._by_segment = by_segment
        self._unindexed = tuple(unindexed)

    def match(self, request: HttpRequest) -> AlbRule | None:
        path = request.path
        first = path.split("/", 2)[1] if path.startswith("/") else ""
        exact = self._exact.get(path)
        by_segment = self._by_segment.get(first)
        order: Sequence[int] = self._unindexed
        if exact is not None or by_segment is not None:
            order = sorted({*self._unindexed, *(exact or ()), *(by_segment or ())})
        view = _RequestView(request)
        for i in order:
            if self._rules[i].matches(view):
                return self._rules[i].rule
        return None


# --------------------------------------------------------------------------------------------
# ALB rule validation: quotas and character sets from
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html
# and the ELB API reference (HttpHeaderConditionConfig, HttpRequestMethodConditionConfig).

_ALB_PATH = re.compile(r"[A-Za-z0-9_\-.$/~\"'@:+&*?]{1,128}")
_ALB_HOST = re.compile(r"[A-Za-z0-9\-.*?]{1,128}")
_ALB_METHOD = re.compile(r"[A-Z_-]{1,40}")
_HEADER_NAME = re.compile(r"[!#$%&'+.^_`|~0-9A-Za-z-]{1,40}")
_VISIBLE = re.compile(r"[\x20-\x7e]{1,128}")


def validate_alb_rule(rule: AlbRule) -> str | None:
    """Why a listener rule would be refused by ELB, or None.

    At least one condition; at most 3 values per condition and 5 per rule; at most 5 wildcards per
    rule; the character sets of each condition type.
    """
    conditions: list[tuple[str, Sequence[str]]] = [
        ("path", rule.path), ("host", rule.host), ("method", rule.method), ("source_ip", rule.source_ip),
        *((f"http_header.{name}", values) for name, values in rule.http_header.items()),
        ("query_string", [q.value for q in rule.query_string]),
    ]
    used = [(name, values) for name, values in conditions if values]
    if not used:
        return "a listener rule needs at least one condition (only the default action has none)"
    for name, values in used:
        if len(values) > 3:
            return f"{name}: at most 3 values per condition, not {len(values)}"
    total = sum(len(values) for _, values in used)
    if total > 5:
        return f"at most 5 condition values per rule, this rule has {total}"
    problem = _alb_value_problem(rule)
    if problem is not None:
        return problem
    wildcards = sum(_count_wildcards(v) for v in (*rule.path, *rule.host))
    wildcards += sum(_count_wildcards(v) for values in rule.http_header.values() for v in values)
    wildcards += sum(_count_wildcards(q.value, escapes=True) for q in rule.query_string)
    wildcards += sum(_count_wildcards(q.key, escapes=True) for q in rule.query_string if q.key is not None)
    if wildcards > 5:
        return f"at most 5 wildcard characters (* and ?) per rule, this rule has {wildcards}"
    return None


def _alb_value_problem(rule: AlbRule) -> str | None:
    for i, path in enumerate(rule.path):
        if not _ALB_PATH.fullmatch(path):
            return f"path[{i}]: {path!r} is not 1-128 of A-Z a-z 0-9 _ - . $ / ~ \" ' @ : + & * ?"
    for i, host in enumerate(rule.host):
        last = host.rpartition(".")[2]
        if not _ALB_HOST.fullmatch(host) or "." not in host or not last.isalnum() or not last.isascii():
            return (
                f"host[{i}]: {host!r} is not 1-128 of A-Z a-z 0-9 - . * ? with a '.' "
                "and only letters or digits after the last '.'"
            )
    for i, method in enumerate(rule.method):
        if not _ALB_METHOD.fullmatch(method):
            return f"method[{i}]: {method!r} is not 1-40 of A-Z, '-' and '_'"
    for name, values in rule.http_header.items():
        if not _HEADER_NAME.fullmatch(name):
            return f"http_header.{name}: not a header name (1-40 token characters, no wildcards)"
        for value in values:
            if not _VISIBLE.fullmatch(value):
                return f"http_header.{name}: {value!r} is not 1-128 visible ASCII characters"
    for i, query in enumerate(rule.query_string):
        for part in (query.value,) if query.key is None else (query.key, query.value):
            if not _VISIBLE.fullmatch(part):
                return f"query_string[{i}]: {part!r} is not 1-128 visible ASCII characters"
    for i, cidr in enumerate(rule.source_ip):
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            cidr = ""
        if "/" not in cidr:
            return f"source_ip[{i}]: {rule.source_ip[i]!r} is not an IPv4 or IPv6 CIDR block"
    return None
