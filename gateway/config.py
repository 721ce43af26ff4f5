"""Configuration: TOML -> frozen dataclasses, validated once at load time.

One loading path (STYLE H8): ``load_config(path)`` -> ``tomllib`` -> ``GatewayConfig.from_mapping()``.
Every section is a frozen dataclass, defined here; the converter (config_convert.py) walks their
type hints, so an unknown key or a wrong type raises ``ConfigError`` naming the file and the dotted
key (``http_apis[0].routes[1].function``); then config_checks.py cross-checks the whole and fills
in derived values. Nothing here is read again after start.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from gateway.errors import ConfigError

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
    # CloudFront distributions: raw tables here, edge.config.DistributionConfig after config_checks.finish.
    distributions: tuple[Any, ...] = ()
    source: str = field(default="", metadata={"internal": True})
    base_dir: Path = field(default=Path("."), metadata={"internal": True})

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, source: str = "", base_dir: Path | None = None) -> GatewayConfig:
        base = (base_dir or Path.cwd()).resolve()
        from gateway.config_checks import finish  # both import this module's dataclasses
        from gateway.config_convert import Converter

        conv = Converter(file=source, base_dir=base)
        config = conv.convert(data, cls, "")
        config = dataclasses.replace(config, source=source, base_dir=base)
        return finish(config, file=source)

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
