"""Identity sources and execute-api ARNs: what API Gateway reads before it runs an authorizer.

An identity source names where a caller's credentials are (a header, a query parameter, a
stage variable or a context variable). HTTP APIs write them as selection expressions
(``$request.header.Authorization``), REST APIs as mapping expressions
(``method.request.header.Authorization``). When any configured source is missing or empty,
API Gateway answers 401 **without invoking the authorizer**, and the values are the key of the
authorizer's result cache.

https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html#http-api-lambda-authorizer.identity-sources
https://docs.aws.amazon.com/apigateway/latest/developerguide/configure-api-gateway-lambda-authorization.html
https://docs.aws.amazon.com/apigateway/api-reference/resource/authorizer/#identitySource

Pure: no clock, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl

from gateway.models import HttpRequest

Api = Literal["http", "rest"]
Kind = Literal["header", "querystring", "context", "stageVariables"]

_PREFIXES: dict[Api, tuple[tuple[str, Kind], ...]] = {
    "http": (
        ("$request.header.", "header"),
        ("$request.querystring.", "querystring"),
        ("$context.", "context"),
        ("$stageVariables.", "stageVariables"),
    ),
    "rest": (
        ("method.request.header.", "header"),
        ("method.request.querystring.", "querystring"),
        ("context.", "context"),
        ("stageVariables.", "stageVariables"),
    ),
}
# Header names are HTTP tokens; query, stage and context names: no whitespace, no separators.
_NAME = {
    "header": re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"),
    "querystring": re.compile(r"[^\s&=#]+"),
    "context": re.compile(r"[A-Za-z][A-Za-z0-9_.]*"),
    "stageVariables": re.compile(r"[A-Za-z0-9_]+"),
}


@dataclass(frozen=True, slots=True)
class IdentitySource:
    """One parsed identity source. ``text`` is the expression as configured."""

    text: str
    kind: Kind
    name: str


def parse_identity_source(text: str, api: Api) -> IdentitySource:
    """Parse one expression, or raise ValueError saying which forms are accepted."""
    for prefix, kind in _PREFIXES[api]:
        if text.startswith(prefix):
            name = text[len(prefix):]
            if not _NAME[kind].fullmatch(name):
                raise ValueError(f"{text!r}: {name!r} is not a valid {kind} name")
            return IdentitySource(text, kind, name)
    forms = ", ".join(f"{prefix}<name>" for prefix, _ in _PREFIXES[api])
    raise ValueError(f"{text!r} is not an identity source of this API type (use {forms})")


@dataclass(frozen=True, slots=True)
class IdentitySources:
    """The identity sources of one authorizer, read from each request.

    REST APIs give a header's last value and a query parameter's last value (their ``headers``
    and ``queryStringParameters`` maps keep the last, REST-3/4); HTTP APIs join repeats with
    ``,`` as their events do (HV2-2, HV2-4)."""

    api: Api
    sources: tuple[IdentitySource, ...]

    @classmethod
    def parse(cls, texts: Sequence[str], api: Api) -> IdentitySources:
        return cls(api, tuple(parse_identity_source(t, api) for t in texts))

    def values(
        self,
        request: HttpRequest,
        *,
        stage_variables: Mapping[str, str],
        context: Callable[[str], str | None],
    ) -> list[str] | None:
        """Each source's value in order, or None when one is missing or empty (401, no invocation)."""
        out: list[str] = []
        query: list[tuple[str, str]] | None = None
        for source in self.sources:
            value: str | None
            if source.kind == "header":
                found = request.header_values(source.name)
                value = (found[-1] if self.api == "rest" else ",".join(found)) if found else None
            elif source.kind == "querystring":
                if query is None:
                    query = parse_qsl(request.query_string, keep_blank_values=True)
                found = [v for k, v in query if k == source.name]
                value = (found[-1] if self.api == "rest" else ",".join(found)) if found else None
            elif source.kind == "stageVariables":
                value = stage_variables.get(source.name)
            else:
                value = context(source.name)
            if not value:
                return None
            out.append(value)
        return out


def execute_api_arn(*, region: str, account_id: str, api_id: str, stage: str, method: str, path: str) -> str:
    """``arn:aws:execute-api:{region}:{account}:{api-id}/{stage}/{METHOD}/{path}``: the methodArn
    (REST, HTTP API payload 1.0) or routeArn (payload 2.0) of a request. ``path`` is the request's
    path without the stage, as sent (``/pets/42``, not the resource template), so a cached policy
    naming one path does not cover another (the AWS knowledge-center note on ``{proxy+}``).

    https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-input.html
    https://docs.aws.amazon.com/apigateway/latest/developerguide/arn-format-reference.html
    """
    return f"arn:aws:execute-api:{region}:{account_id}:{api_id}/{stage}/{method}/{path.lstrip('/')}"


def path_without_stage(path: str, stage: str) -> str:
    """The request path with a leading ``/{stage}`` removed (REST-7, HV2-5); ``$default`` has none."""
    if stage != "$default":
        prefix = f"/{stage}"
        if path == prefix or path.startswith(prefix + "/"):
            return path[len(prefix):] or "/"
    return path or "/"
