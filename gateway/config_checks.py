"""Load-time cross-checks of a converted config and the values derived from it (``finish``).

Called once by ``GatewayConfig.from_mapping``: handlers, routes, authorizers, CORS, addresses,
versions and aliases are checked here, and derived values (API ids, ARNs) filled in; every problem is
a ``ConfigError`` naming the file and the dotted key.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable
from typing import Literal

from gateway.config import (
    CorsConfig,
    FixedResponse,
    FunctionConfig,
    GatewayConfig,
    RoleKeys,
)
from gateway.errors import ConfigError
from gateway.routing import (
    validate_alb_rule,
    validate_http_route_key,
    validate_http_routes,
    validate_rest_path,
    validate_rest_routes,
)

_ROUTE_KEY = re.compile(r"^(?:\$default|(?:ANY|GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) /\S*)$")
_METHODS = {"ANY", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
_HANDLER = re.compile(r"^[A-Za-z_][\w.]*\.[A-Za-z_]\w*$")


def derived_id(*parts: str, length: int) -> str:
    """A stable lowercase-alphanumeric id (API ids, URL ids), so hosts do not change between runs."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    digest = int.from_bytes(hashlib.sha256("\0".join(parts).encode()).digest(), "big")
    out = []
    for _ in range(length):
        digest, rem = divmod(digest, 36)
        out.append(alphabet[rem])
    return "".join(out)


def _check_function(fn: FunctionConfig, key: str, fail: Callable[[str, str], ConfigError]) -> None:
    """The settings of one function or one of its versions (each version is checked whole)."""
    from gateway.functions.runtime import RESERVED_VARIABLES as reserved_variables

    if fn.endpoint is not None:
        from gateway.functions.invokers.remote import endpoint_problem

        problem = endpoint_problem(fn.endpoint, fn.remote_name)
        if problem is not None:
            raise fail(f"{key}.{problem[0]}", problem[1])
    elif not fn.handler:
        raise fail(f"{key}.handler", "is required (unless the function has an endpoint)")
    # A custom runtime (runtime = "provided...") gets the handler as _HANDLER, in any form.
    if fn.endpoint is None and not fn.runtime.startswith("provided") and not _HANDLER.match(fn.handler):
        raise fail(f"{key}.handler", f"{fn.handler!r} is not module.attribute")
    if fn.endpoint is None and not fn.handler:
        raise fail(f"{key}.handler", "must not be empty")
    if fn.endpoint is None and fn.runtime.startswith("provided") and fn.isolation != "process":
        raise fail(f"{key}.isolation", 'a custom runtime (provided) runs its bootstrap in a process: use "process"')
    if fn.endpoint is None and not fn.code_uri.is_dir():
        raise fail(f"{key}.code_uri", f"directory {str(fn.code_uri)!r} does not exist")
    if not 1 <= fn.timeout <= 900:
        raise fail(f"{key}.timeout", "must be between 1 and 900 seconds")
    if not 128 <= fn.memory_size <= 10240:
        raise fail(f"{key}.memory_size", "must be between 128 and 10240 MB")
    if not 512 <= fn.ephemeral_storage <= 10240:
        raise fail(f"{key}.ephemeral_storage", "must be between 512 and 10240 MB")
    if not 0 < fn.idle_timeout <= 86400:
        raise fail(f"{key}.idle_timeout", "must be more than 0 and at most 86400 seconds")
    if sum(len(k) + len(v) for k, v in fn.environment.items()) > 4096:
        raise fail(f"{key}.environment", "variables are over Lambda's 4 KB total")
    for var in fn.environment:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", var):
            raise fail(f"{key}.environment.{var}", "is not a valid variable name")
        if var in reserved_variables:
            raise fail(f"{key}.environment.{var}", "is reserved by Lambda and cannot be set (as on AWS)")
    # Up to five layers, as on AWS: https://docs.aws.amazon.com/lambda/latest/dg/adding-layers.html
    if len(fn.layers) > 5:
        raise fail(f"{key}.layers", "a function can use at most 5 layers")
    for i, layer in enumerate(fn.layers):
        if not layer.is_dir():
            raise fail(f"{key}.layers[{i}]", f"directory {str(layer)!r} does not exist")
    if isinstance(fn.role, RoleKeys):
        for part in ("access_key_id", "secret_access_key"):
            if not getattr(fn.role, part):
                raise fail(f"{key}.role.{part}", "must not be empty")
    if fn.provisioned_concurrency < 0:
        raise fail(f"{key}.provisioned_concurrency", "must be 0 or more")


def _resolve_role(
    fn: FunctionConfig, config: GatewayConfig, key: str, fail: Callable[[str, str], ConfigError]
) -> FunctionConfig:
    """``role = "arn:..."`` names an ``[[identities]]`` entry: the function gets that identity's keys."""
    if not isinstance(fn.role, str) or fn.role == "inherit":
        return fn
    if fn.role.startswith("arn:"):
        for identity in config.identities:
            if identity.arn == fn.role:
                keys = RoleKeys(access_key_id=identity.access_key_id, secret_access_key=identity.secret_access_key,
                                session_token=identity.session_token)
                return dataclasses.replace(fn, role=keys)
        raise fail(f"{key}.role", f"no [[identities]] entry has the ARN {fn.role!r}")
    raise fail(f"{key}.role", 'must be "inherit", the ARN of an [[identities]] entry, or a table of keys')


def finish(config: GatewayConfig, *, file: str) -> GatewayConfig:
    def fail(key: str, problem: str) -> ConfigError:
        return ConfigError(problem, key=key, file=file)

    g = config.gateway
    if not re.fullmatch(r"\d{12}", g.account_id):
        raise fail("gateway.account_id", "must be 12 digits")
    if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", g.region):
        raise fail("gateway.region", f"{g.region!r} is not a region name like us-east-1")
    if g.max_queued_requests < 0:
        raise fail("gateway.max_queued_requests", "must be 0 or more")

    from gateway.auth.authorizer_config import check_http_authorizers, check_rest_authorizers
    from gateway.auth.identities import check_function_policy, check_identities
    from gateway.functions.concurrency import check_concurrency
    from gateway.functions.versions import check_versions, reference_problem

    if g.concurrency_limit < 1:
        raise fail("gateway.concurrency_limit", "must be 1 or more")
    functions: dict[str, FunctionConfig] = {}
    for name, fn in config.functions.items():
        key = f"functions.{name}"
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
            raise fail(key, "function names are 1-64 letters, digits, '-' or '_'")
        versions = {label: dataclasses.replace(v, name=name, version=label) for label, v in fn.versions.items()}
        versions = {label: _resolve_role(v, config, f"{key}.versions.{label}", fail) for label, v in versions.items()}
        fn = _resolve_role(dataclasses.replace(fn, name=name, versions=versions), config, key, fail)
        _check_function(fn, key, fail)
        for label, version in versions.items():
            _check_function(version, f"{key}.versions.{label}", fail)
        check_versions(fn, key, fail)
        functions[name] = check_function_policy(fn, key, config.base_dir, fail)
    check_concurrency(functions, g.concurrency_limit, fail)
    from gateway.destinations import check_async_config

    check_async_config(functions, g.retry_delay_scale, fail)
    from gateway.schedules import check_schedules

    functions = check_schedules(functions, fail)

    def check_function(key: str, name: str | None, *, url: bool = False) -> None:
        problem = reference_problem(functions, name, url=url) if name is not None else None
        if problem is not None:
            raise fail(key, problem)

    http_apis = []
    for i, api in enumerate(config.http_apis):
        key = f"http_apis[{i}]"
        name = api.name or f"http-api-{i + 1}"
        for j, route in enumerate(api.routes):
            if not _ROUTE_KEY.match(route.route):
                raise fail(f"{key}.routes[{j}].route",
                           f"{route.route!r} is not a route key like 'GET /items/{{id}}' or '$default'")
            problem = validate_http_route_key(route.route)
            if problem:
                raise fail(f"{key}.routes[{j}].route", problem)
            check_function(f"{key}.routes[{j}].function", route.function)
        problem = validate_http_routes(api.routes)
        if problem:
            raise fail(f"{key}.routes", problem)
        if not 0.05 <= api.integration_timeout <= 30:
            raise fail(f"{key}.integration_timeout", "must be between 0.05 and 30 seconds")
        if api.stage != "$default" and not re.fullmatch(r"[A-Za-z0-9_-]{1,128}", api.stage):
            raise fail(f"{key}.stage", "must be '$default' or letters, digits, '-' and '_'")
        _check_cors(api.cors, "http_api", key, fail)
        check_http_authorizers(api, key, fail, check_function)
        api_id = api.api_id or derived_id("http_api", name, length=10)
        http_apis.append(dataclasses.replace(api, name=name, api_id=api_id))

    rest_apis = []
    for i, rapi in enumerate(config.rest_apis):
        key = f"rest_apis[{i}]"
        name = rapi.name or f"rest-api-{i + 1}"
        for j, rroute in enumerate(rapi.routes):
            if rroute.method.upper() not in _METHODS:
                raise fail(f"{key}.routes[{j}].method", f"{rroute.method!r} is not an HTTP method or ANY")
            if not rroute.path.startswith("/"):
                raise fail(f"{key}.routes[{j}].path", "must start with '/'")
            problem = validate_rest_path(rroute.path)
            if problem:
                raise fail(f"{key}.routes[{j}].path", problem)
            check_function(f"{key}.routes[{j}].function", rroute.function)
        problem = validate_rest_routes(rapi.routes)
        if problem:
            raise fail(f"{key}.routes", problem)
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,128}", rapi.stage):
            raise fail(f"{key}.stage", "REST API stages are letters, digits, '-' and '_' (there is no $default)")
        if not 0.05 <= rapi.integration_timeout <= 900:
            raise fail(f"{key}.integration_timeout", "must be between 0.05 and 900 seconds")
        check_rest_authorizers(rapi, key, fail, check_function)
        api_id = rapi.api_id or derived_id("rest_api", name, length=10)
        rest_apis.append(dataclasses.replace(rapi, name=name, api_id=api_id))

    albs = []
    for i, alb in enumerate(config.albs):
        key = f"albs[{i}]"
        name = alb.name or f"alb-{i + 1}"
        seen: set[int] = set()
        for j, rule in enumerate(alb.rules):
            rkey = f"{key}.rules[{j}]"
            if not 1 <= rule.priority <= 50000:
                raise fail(f"{rkey}.priority", "must be between 1 and 50000")
            if rule.priority in seen:
                raise fail(f"{rkey}.priority", f"priority {rule.priority} is used by another rule")
            seen.add(rule.priority)
            if (rule.function is None) == (rule.fixed_response is None):
                raise fail(rkey, "needs exactly one of 'function' or 'fixed_response'")
            problem = validate_alb_rule(rule)
            if problem:
                raise fail(rkey, problem)
            if rule.fixed_response is not None:
                _check_fixed_response(rule.fixed_response, f"{rkey}.fixed_response", fail)
        if alb.default_action is not None:
            _check_fixed_response(alb.default_action, f"{key}.default_action", fail)
            check_function(f"{rkey}.function", rule.function)
        check_function(f"{key}.default_function", alb.default_function)
        albs.append(dataclasses.replace(alb, name=name))

    urls = []
    for i, url in enumerate(config.function_urls):
        check_function(f"function_urls[{i}].function", url.function, url=True)
        _check_cors(url.cors, "function_url", f"function_urls[{i}]", fail)
        url_id = url.url_id or derived_id("function_url", url.function, g.region, length=32)
        urls.append(dataclasses.replace(url, url_id=url_id))

    identities = check_identities(config.identities, config.base_dir, fail)
    config = dataclasses.replace(
        config, functions=functions, http_apis=tuple(http_apis), rest_apis=tuple(rest_apis),
        albs=tuple(albs), function_urls=tuple(urls), identities=identities,
    )
    if config.distributions:
        from edge.config import check_distributions

        config = dataclasses.replace(config, distributions=check_distributions(config, fail, config.distributions))
    _check_addresses(config, fail)
    return config


def _check_cors(cors: CorsConfig | None, kind: Literal["http_api", "function_url"], key: str,
                fail: Callable[[str, str], ConfigError]) -> None:
    from gateway.auth.cors import cors_problem

    problem = cors_problem(cors, kind) if cors is not None else None
    if problem is not None:
        raise fail(f"{key}.cors.{problem[0]}", problem[1])


# The ELB API's FixedResponseActionConfig: StatusCode ^(2|4|5)\d\d$, these content types, a body of
# at most 1024 characters. https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_FixedResponseActionConfig.html
_FIXED_TYPES = ("text/plain", "text/css", "text/html", "application/javascript", "application/json")


def _check_fixed_response(fixed: FixedResponse, key: str, fail: Callable[[str, str], ConfigError]) -> None:
    if not (200 <= fixed.status <= 299 or 400 <= fixed.status <= 599):
        raise fail(f"{key}.status", "must be 2XX, 4XX or 5XX, as an ALB fixed response")
    if fixed.content_type not in _FIXED_TYPES:
        raise fail(f"{key}.content_type", f"must be one of {', '.join(_FIXED_TYPES)}")
    if len(fixed.body) > 1024:
        raise fail(f"{key}.body", "is over the 1024 characters an ALB fixed response may carry")


def _check_addresses(config: GatewayConfig, fail: Callable[[str, str], ConfigError]) -> None:
    names = {"http_api": "http_apis", "rest_api": "rest_apis", "alb": "albs", "function_url": "function_urls",
             "distribution": "distributions"}
    # A front that a distribution uses as an origin may have no listen address of its own.
    origin_only = {o.front for d in config.distributions for o in d.origins if o.front is not None}
    counters: dict[str, int] = {}
    used: dict[tuple[str, int], str] = {}
    for kind, front in config.fronts():
        index = counters.get(kind, 0)
        counters[kind] = index + 1
        key = f"{kind}.listen" if kind in ("admin", "lambda_api") else f"{names[kind]}[{index}].listen"
        if front.listen is None and kind != "distribution" and front.name in origin_only:
            continue
        if front.listen is None:
            raise fail(key, "is required (host:port to serve this front on)")
        addr = (front.listen.host, front.listen.port)
        if addr[1] == 0:
            continue
        for (host, port), other in used.items():
            wildcard = host in ("0.0.0.0", "::") or addr[0] in ("0.0.0.0", "::")
            if port == addr[1] and (host == addr[0] or wildcard):
                raise fail(key, f"{front.listen} is already used by {other}")
        used[addr] = key.removesuffix(".listen")
