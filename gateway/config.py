"""Configuration: TOML -> frozen dataclasses, validated once at load time.

One loading path (STYLE H8): ``load_config(path)`` -> ``tomllib`` -> ``GatewayConfig.from_mapping()``.
Every section is a frozen dataclass; the converter walks the dataclass' type hints, so an
unknown key or a wrong type raises ``ConfigError`` naming the file and the dotted key
(``http_apis[0].routes[1].function``). Nothing here is read again after start.
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import re
import tomllib
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union

from gateway.errors import ConfigError
from gateway.routing import (
    validate_alb_rule,
    validate_http_route_key,
    validate_http_routes,
    validate_rest_path,
    validate_rest_routes,
)

SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Address:
    """A ``host:port`` listen address. Port 0 asks the OS for a free port (tests use it)."""

    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @classmethod
    def parse(cls, text: str) -> Address:
        host, sep, port_text = text.rpartition(":")
        if not sep:
            host, port_text = "127.0.0.1", text
        host = host.strip("[]") or "127.0.0.1"
        if host == "localhost":
            host = "127.0.0.1"
        if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
            raise ValueError(f"{text!r} is not host:port with a port 0-65535")
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise ValueError(f"{text!r}: {host!r} is not an IP address") from None
        return cls(host, int(port_text))


# --------------------------------------------------------------------------------------------
# Sections. Field order is the order config.example.toml documents them.


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewaySettings:
    region: str = "us-east-1"
    account_id: str = "123456789012"
    server: Literal["hypercorn", "uvicorn"] = "hypercorn"
    access_log: bool = True
    # In-process functions run one invocation at a time; this many more may wait (then: throttle).
    max_queued_requests: int = 1000
    # In-flight invocations across every function, as an AWS account's Regional limit (1000).
    concurrency_limit: int = 1000
    # Hot reload: a change under a function's code_uri or layers sends new invocations to fresh
    # environments (functions/reload.py). `gateway serve --no-reload` turns it off.
    reload: bool = True
    # The machine's standard AWS credential chain as one more identity: the root user of
    # account_id (gateway/auth/identities.py).
    trust_local_credentials: bool = False
    # The durable async-invocation queue (gateway/queue.py) keeps <data_dir>/queue.sqlite3, relative
    # to the config file; made when first needed. retry_delay_scale multiplies every retry delay,
    # throttle backoff and maximum_event_age (0.01: Lambda's 1 and 2 minutes become 0.6 and 1.2 s).
    data_dir: Path = Path(".gateway")
    retry_delay_scale: float = 1.0
    # EventBridge schedules of functions fire while serving (gateway/scheduler.py); `gateway serve
    # --no-schedules` turns them off (they can still be run by hand: POST /schedules/<rule> on admin).
    schedules: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Destination:
    """``on_success``, ``on_failure`` or ``dead_letter`` of a function: another function (invoked
    asynchronously) or a JSON Lines file (relative to the config file). Exactly one of the two."""

    function: str | None = None
    file: Path | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RoleKeys:
    """A function's ``role`` given as explicit keys (what Lambda's execution role would hand it)."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleConfig:
    """One ``schedule`` entry, as SAM's Schedule event: ``expression`` is rate(...) or cron(...);
    ``name`` the rule's name (default ``<function>-schedule-<n>``); ``input`` JSON text sent instead
    of the Scheduled Event (EventBridge's target Input); ``enabled = false`` keeps it from firing."""

    expression: str
    name: str = ""
    input: str | None = None
    enabled: bool = True
    description: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AliasConfig:
    """``aliases.<name>``: a version, plus at most one more with a share of the traffic."""

    version: str
    additional_version_weights: Mapping[str, float] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class FunctionConfig:
    name: str = ""
    handler: str = ""  # required unless ``endpoint`` is set (checked in _check_function)
    code_uri: Path = field(default=Path("."), metadata={"path": True})
    runtime: str = "python3.11"
    timeout: float = 3 * SECONDS
    memory_size: int = 128
    environment: Mapping[str, str] = field(default_factory=dict)
    isolation: Literal["inprocess", "process"] = "process"
    description: str = ""
    # Process environments (gateway/functions/invokers/process.py): seconds an idle environment
    # lives on, and the size of its private /tmp in MB (Lambda's ephemeral storage, 512-10240).
    idle_timeout: float = 300 * SECONDS
    ephemeral_storage: int = 512
    # A remote function: a Lambda Invoke API endpoint (AWS or RIE) and the name to invoke there
    # (default: this function's name). handler, code_uri and isolation then do not apply.
    endpoint: str | None = None
    remote_name: str = ""
    # Concurrency, role, layers, versions and aliases (gateway/functions/{concurrency,credentials,
    # layers,versions}.py). "function_wide" settings belong to the function, never to a version.
    reserved_concurrency: int | None = field(default=None, metadata={"function_wide": True})
    provisioned_concurrency: int = 0
    # "inherit", an [[identities]] ARN (resolved to that identity's keys at load), or a table of keys.
    role: str | RoleKeys | None = None
    layers: tuple[Path, ...] = ()
    versions: Mapping[str, FunctionConfig] = field(
        default_factory=dict, metadata={"function_wide": True, "variants": True})
    aliases: Mapping[str, AliasConfig] = field(default_factory=dict, metadata={"function_wide": True})
    # The resource-based policy (IAM JSON, or a file path), as `aws lambda add-permission` builds it.
    policy: str | None = field(default=None, metadata={"function_wide": True})
    # Asynchronous invocation (gateway/queue.py): retries after a function error (0-2), the age in
    # seconds after which an event is given up (60-21600), and where records and failed events go.
    maximum_retry_attempts: int = field(default=2, metadata={"function_wide": True})
    maximum_event_age: int = field(default=21600, metadata={"function_wide": True})
    on_success: Destination | None = field(default=None, metadata={"function_wide": True})
    on_failure: Destination | None = field(default=None, metadata={"function_wide": True})
    dead_letter: Destination | None = field(default=None, metadata={"function_wide": True})
    # EventBridge scheduled rules invoking the function asynchronously (gateway/schedules.py): an
    # expression, a list of them, or tables (ScheduleConfig); strings become tables at load.
    schedule: tuple[str | ScheduleConfig, ...] = field(
        default=(), metadata={"function_wide": True, "one_or_many": True})
    # "$LATEST" for the function itself; a version's own config carries its number.
    version: str = field(default="$LATEST", metadata={"internal": True})

    @property
    def arn_suffix(self) -> str:
        return f"function:{self.name}"


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpApiRoute:
    route: str
    function: str
    payload_format_version: Literal["1.0", "2.0"] = "2.0"
    # A JWT or Lambda authorizer of this API by name, and the scopes a JWT must carry one of.
    authorizer: str | None = None
    authorization_scopes: tuple[str, ...] = ()
    # "AWS_IAM": SigV4-signed callers allowed execute-api:Invoke (gateway/auth/iam.py).
    authorization: Literal["NONE", "AWS_IAM"] = "NONE"


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpAuthorizerConfig:
    """``http_apis[].authorizers.<name>`` (gateway/auth/jwt.py, gateway/auth/lambda_authorizer.py).

    ``jwt``: issuer, audience, identity_sources. ``request``: a Lambda authorizer (function,
    payload_format_version, enable_simple_responses, identity_sources, ttl; ttl 0 = no cache)."""

    type: Literal["jwt", "request"]
    identity_sources: tuple[str, ...] | None = field(default=None, metadata={"one_or_many": True})
    issuer: str = ""
    audience: tuple[str, ...] = field(default=(), metadata={"one_or_many": True})
    function: str = ""
    payload_format_version: Literal["1.0", "2.0"] = "2.0"
    enable_simple_responses: bool = False
    ttl: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class CorsConfig:
    """``cors`` on [[http_apis]] and [[function_urls]] (gateway/auth/cors.py; AWS's limits checked
    at load, CORS-U1/CORS-H1). ``max_age`` unset sends no Access-Control-Max-Age. REST APIs have
    none: their functions answer CORS themselves (REST-R7)."""

    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpApiConfig:
    name: str = ""
    listen: Address | None = None
    stage: str = "$default"
    routes: tuple[HttpApiRoute, ...] = ()
    stage_variables: Mapping[str, str] = field(default_factory=dict)
    api_id: str = ""
    # API Gateway gives up after 30 s (HV2-10) and answers 503.
    integration_timeout: float = 30 * SECONDS
    cors: CorsConfig | None = None
    authorizers: Mapping[str, HttpAuthorizerConfig] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class RestRoute:
    method: str
    path: str
    function: str
    # A Lambda authorizer of this API by name (gateway/auth/lambda_authorizer.py).
    authorizer: str | None = None
    # "AWS_IAM": SigV4-signed callers allowed execute-api:Invoke (gateway/auth/iam.py).
    authorization: Literal["NONE", "AWS_IAM"] = "NONE"


@dataclass(frozen=True, slots=True, kw_only=True)
class RestAuthorizerConfig:
    """``rest_apis[].authorizers.<name>``: a TOKEN or REQUEST Lambda authorizer. ``ttl`` is
    authorizerResultTtlInSeconds (default 300, at most 3600, 0 = no cache)."""

    type: Literal["token", "request"]
    function: str
    identity_sources: tuple[str, ...] | None = field(default=None, metadata={"one_or_many": True})
    ttl: int = 300
    identity_validation_expression: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RestApiConfig:
    name: str = ""
    listen: Address | None = None
    stage: str = "dev"
    binary_media_types: tuple[str, ...] = ()
    routes: tuple[RestRoute, ...] = ()
    stage_variables: Mapping[str, str] = field(default_factory=dict)
    api_id: str = ""
    # 29 s by default (REST-10); the answer is 504 "Endpoint request timed out".
    integration_timeout: float = 29 * SECONDS
    endpoint_type: Literal["REGIONAL", "EDGE"] = "REGIONAL"
    authorizers: Mapping[str, RestAuthorizerConfig] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class FixedResponse:
    status: int = 404
    content_type: str = "text/plain"
    body: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class QueryCondition:
    key: str | None = None
    value: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AlbRule:
    priority: int
    function: str | None = None
    fixed_response: FixedResponse | None = None
    # Conditions (all must match; each list matches if any of its values matches).
    path: tuple[str, ...] = field(default=(), metadata={"one_or_many": True})
    host: tuple[str, ...] = field(default=(), metadata={"one_or_many": True})
    method: tuple[str, ...] = field(default=(), metadata={"one_or_many": True})
    http_header: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    query_string: tuple[QueryCondition, ...] = ()
    source_ip: tuple[str, ...] = field(default=(), metadata={"one_or_many": True})
    # The target group attribute lambda.multi_value_headers.enabled (ALB-0).
    multi_value_headers: bool = False
    target_group: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AlbConfig:
    name: str = ""
    listen: Address | None = None
    rules: tuple[AlbRule, ...] = ()
    default_action: FixedResponse | None = None
    default_function: str | None = None
    default_multi_value_headers: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class FunctionUrlConfig:
    function: str
    listen: Address | None = None
    auth_type: Literal["NONE", "AWS_IAM"] = "NONE"
    invoke_mode: Literal["BUFFERED"] = "BUFFERED"
    url_id: str = ""
    cors: CorsConfig | None = None

    @property
    def name(self) -> str:
        return f"{self.function}-url"


@dataclass(frozen=True, slots=True, kw_only=True)
class IdentityConfig:
    """``[[identities]]``: a caller that signs requests with SigV4 (gateway/auth/identities.py).

    ``policies`` are identity-based IAM policies, JSON text or file paths relative to the config
    file; the account comes from ``arn``. ``user_id`` is aws:userid (default: an AWS-shaped id
    derived from the ARN); ``principal_org_id`` is aws:PrincipalOrgID."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None
    arn: str
    policies: tuple[str, ...] = field(default=(), metadata={"one_or_many": True})
    user_id: str = ""
    principal_org_id: str | None = None

    def __repr__(self) -> str:  # never print the secret
        return f"IdentityConfig(access_key_id={self.access_key_id!r}, arn={self.arn!r})"


@dataclass(frozen=True, slots=True, kw_only=True)
class AdminConfig:
    """``[admin]``: the gateway's own listener (GET /metrics, fronts/admin.py); off unless ``listen`` is set."""

    listen: Address | None = None

    @property
    def name(self) -> str:
        return "admin"


@dataclass(frozen=True, slots=True, kw_only=True)
class LambdaApiConfig:
    """``[lambda_api]``: Lambda's own service API (Invoke, GetFunction ... fronts/lambda_api.py) for
    boto3 and the AWS CLI; off unless ``listen`` is set. ``auth = "AWS_IAM"``: SigV4 (service ``lambda``)
    by an ``[[identities]]`` entry allowed the operation's action (gateway/auth/lambda_api_iam.py).
    Event invocations go to the durable async queue (gateway/queue.py; ``[gateway] data_dir``,
    ``retry_delay_scale`` and each function's maximum_retry_attempts, maximum_event_age, on_success,
    on_failure, dead_letter)."""

    listen: Address | None = None
    auth: Literal["NONE", "AWS_IAM"] = "NONE"

    @property
    def name(self) -> str:
        return "lambda_api"


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayConfig:
    """The whole configuration. ``base_dir`` is the directory relative paths are resolved in."""

    gateway: GatewaySettings = field(default_factory=GatewaySettings)
    functions: Mapping[str, FunctionConfig] = field(default_factory=dict)
    http_apis: tuple[HttpApiConfig, ...] = ()
    rest_apis: tuple[RestApiConfig, ...] = ()
    albs: tuple[AlbConfig, ...] = ()
    function_urls: tuple[FunctionUrlConfig, ...] = ()
    admin: AdminConfig = field(default_factory=AdminConfig)
    lambda_api: LambdaApiConfig = field(default_factory=LambdaApiConfig)
    identities: tuple[IdentityConfig, ...] = ()
    # CloudFront distributions: raw tables here, edge.config.DistributionConfig after _finish.
    distributions: tuple[Any, ...] = ()
    source: str = field(default="", metadata={"internal": True})
    base_dir: Path = field(default=Path("."), metadata={"internal": True})

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, source: str = "", base_dir: Path | None = None) -> GatewayConfig:
        base = (base_dir or Path.cwd()).resolve()
        conv = _Converter(file=source, base_dir=base)
        config = conv.convert(data, cls, "")
        config = dataclasses.replace(config, source=source, base_dir=base)
        return _finish(config, file=source)

    def fronts(self) -> list[tuple[str, Any]]:
        """Every front as (kind, config), in the order they are listed in the file."""
        out: list[tuple[str, Any]] = []
        out += [("http_api", c) for c in self.http_apis]
        out += [("rest_api", c) for c in self.rest_apis]
        out += [("alb", c) for c in self.albs]
        out += [("function_url", c) for c in self.function_urls]
        out += [("distribution", c) for c in self.distributions]
        out += [("admin", self.admin)] if self.admin.listen is not None else []
        out += [("lambda_api", self.lambda_api)] if self.lambda_api.listen is not None else []
        return out


def load_config(path: str | Path) -> GatewayConfig:
    """Read and validate a TOML config file. Raises ConfigError naming the file, key and problem."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError("file not found", file=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", file=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", file=str(path)) from exc
    return GatewayConfig.from_mapping(data, source=str(path), base_dir=path.resolve().parent)


# --------------------------------------------------------------------------------------------
# The converter: mapping -> dataclass by type hints.


class _Converter:
    def __init__(self, *, file: str, base_dir: Path) -> None:
        self.file = file
        self.base_dir = base_dir

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(problem, key=key or "(top level)", file=self.file)

    def convert(self, value: Any, tp: Any, key: str, meta: Mapping[str, Any] | None = None) -> Any:
        meta = meta or {}
        origin = typing.get_origin(tp)
        if tp is Any:
            return value
        if origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if value is None:
                return None
            if len(args) == 1:
                return self.convert(value, args[0], key, meta)
            return self.union(value, args, key, meta)
        if origin is Literal:
            choices = typing.get_args(tp)
            if value not in choices:
                raise self.fail(key, f"must be one of {', '.join(repr(c) for c in choices)}, not {value!r}")
            return value
        if tp is Address:
            if not isinstance(value, str):
                raise self.fail(key, f"must be a \"host:port\" string, not {_tname(value)}")
            try:
                return Address.parse(value)
            except ValueError as exc:
                raise self.fail(key, str(exc)) from None
        if dataclasses.is_dataclass(tp) and isinstance(tp, type):
            return self.dataclass(value, tp, key)
        if tp is Path:
            if not isinstance(value, str):
                raise self.fail(key, f"must be a path string, not {_tname(value)}")
            return (self.base_dir / value).resolve()
        if origin is tuple:
            (item_tp, _ellipsis) = typing.get_args(tp)
            if meta.get("one_or_many") and isinstance(value, str):
                value = [value]
            if not isinstance(value, list):
                raise self.fail(key, f"must be a list, not {_tname(value)}")
            return tuple(self.convert(v, item_tp, f"{key}[{i}]") for i, v in enumerate(value))
        if origin in (Mapping, dict) or tp is dict:
            _k, val_tp = typing.get_args(tp)
            if not isinstance(value, dict):
                raise self.fail(key, f"must be a table, not {_tname(value)}")
            return {str(k): self.convert(v, val_tp, f"{key}.{k}", meta) for k, v in value.items()}
        if tp is bool:
            if not isinstance(value, bool):
                raise self.fail(key, f"must be true or false, not {_tname(value)}")
            return value
        if tp is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise self.fail(key, f"must be an integer, not {_tname(value)}")
            return value
        if tp is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise self.fail(key, f"must be a number, not {_tname(value)}")
            return float(value)
        if tp is str:
            if not isinstance(value, str):
                raise self.fail(key, f"must be a string, not {_tname(value)}")
            return value
        raise TypeError(f"unsupported config type {tp!r} at {key}")

    def dataclass(self, value: Any, tp: type[Any], key: str) -> Any:
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a table, not {_tname(value)}")
        hints = typing.get_type_hints(tp)
        fields = {f.name: f for f in dataclasses.fields(tp) if not f.metadata.get("internal")}
        kwargs: dict[str, Any] = {}
        for name, raw in value.items():
            sub = f"{key}.{name}" if key else str(name)
            if name not in fields:
                known = ", ".join(sorted(fields))
                raise self.fail(sub, f"unknown key (known keys here: {known})")
            if not fields[name].metadata.get("variants"):  # converted last, over the rest of the table
                kwargs[name] = self.convert(raw, hints[name], sub, fields[name].metadata)
        for name, f in fields.items():
            missing = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            if missing and name not in kwargs:
                raise self.fail(f"{key}.{name}" if key else name, "is required")
        for name, f in fields.items():
            if f.metadata.get("variants") and name in value:
                kwargs[name] = self.variants(value, name, tp, f"{key}.{name}" if key else name)
        return tp(**kwargs)

    def union(self, value: Any, arms: list[Any], key: str, meta: Mapping[str, Any]) -> Any:
        """One of a table type and a plain type (``role``: "inherit" or a table), told apart by shape."""
        tables = [a for a in arms if dataclasses.is_dataclass(a)]
        plain = [a for a in arms if not dataclasses.is_dataclass(a)]
        if len(tables) > 1 or len(plain) > 1:
            raise TypeError(f"unsupported union {arms}")
        candidates = tables if isinstance(value, dict) else plain
        if candidates:
            arm = candidates[0]
            if typing.get_origin(arm) is not Literal or value in typing.get_args(arm):
                return self.convert(value, arm, key, meta)
        choices = [repr(c) for a in plain if typing.get_origin(a) is Literal for c in typing.get_args(a)]
        choices += ["a table"] if tables else []
        shown = _tname(value) if isinstance(value, dict | list) else repr(value)
        raise self.fail(key, f"must be {' or '.join(choices)}, not {shown}")

    def variants(self, table: dict[str, Any], name: str, tp: type[Any], key: str) -> dict[str, Any]:
        """``versions``: each entry is the enclosing table with the entry's keys laid over it.

        Function-wide keys (``metadata["function_wide"]``) are neither inherited nor allowed in an entry.
        """
        entries = table[name]
        if not isinstance(entries, dict):
            raise self.fail(key, f"must be a table, not {_tname(entries)}")
        wide = {f.name for f in dataclasses.fields(tp) if f.metadata.get("function_wide")}
        base = {k: v for k, v in table.items() if k not in wide}
        out: dict[str, Any] = {}
        for label, entry in entries.items():
            if not isinstance(entry, dict):
                raise self.fail(f"{key}.{label}", f"must be a table, not {_tname(entry)}")
            for own in entry:
                if own in wide:
                    raise self.fail(f"{key}.{label}.{own}", "is a setting of the whole function, not of a version")
            out[str(label)] = self.dataclass({**base, **entry}, tp, f"{key}.{label}")
        return out


def _tname(value: Any) -> str:
    return {
        str: "a string", int: "an integer", float: "a number", bool: "a boolean",
        list: "a list", dict: "a table",
    }.get(type(value), type(value).__name__)


# --------------------------------------------------------------------------------------------
# Cross-checks and derived values, all at load time.

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


def _finish(config: GatewayConfig, *, file: str) -> GatewayConfig:
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
