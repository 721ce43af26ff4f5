"""JWT authorizers of HTTP APIs (the only module that imports authlib).

API Gateway's checks, in its order (auth.md 2c;
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html):

1. the identity source holds the token, bare or after ``Bearer ``;
2. the token decodes; its ``alg`` is an RSA one ("only RSA-based algorithms are supported");
3. its ``kid`` names a key of the issuer's JWKS (``{issuer}/.well-known/openid-configuration``
   -> ``jwks_uri``), and the signature verifies with it;
4. ``iss`` equals the issuer; ``aud`` matches an audience (``client_id`` only when there is no
   ``aud``); ``exp`` is in the future, ``nbf`` and ``iat`` are not;
5. if the route has authorization scopes, ``scope`` or ``scp`` holds at least one of them.

A failure in 1-4 is 401 ``{"message":"Unauthorized"}`` with ``www-authenticate: Bearer scope=""
error="invalid_token" error_description="..."``; 5 is 403 ``{"message":"Forbidden"}``.
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-jwt.html
documents one description verbatim ("the token does not have a valid audience"); the others, the
header for a missing token and the header on the 403 follow the same template [INF].

The JWKS is fetched with httpx and cached (cachetools TTLCache, an hour); a token whose ``kid``
is not in the cached set makes one refetch, at most once per ``refetch_interval`` seconds, so
rotated keys work without a restart and garbage kids cannot hammer the issuer. A token whose
signature verified is remembered by its text (until the key set is fetched again), so a client
repeating its token pays for the RSA check once; iss, aud, exp, nbf, iat and scopes are checked on
every request. AWS requires an https issuer; ``http://`` is accepted here so tests can run their
own issuer.

Claims reach the integration as API Gateway passes them: every value a string, arrays as
``[a b]`` (observed: aws-solutions-library-samples/guidance-for-claude-code-with-amazon-bedrock#803);
numbers in full (``"exp": "1700000000"``) [INF for objects and null]. The clock is the request's
``InvocationContext.time_epoch_ms``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

import httpx
from cachetools import TTLCache

from gateway.auth.answers import HTTP
from gateway.auth.identity import IdentitySources
from gateway.errors import Forbidden, Unauthorized
from gateway.models import Authorization, HttpRequest, InvocationContext, RouteMatch

with warnings.catch_warnings():
    # authlib 1.9 deprecates authlib.jose in favour of joserfc; it works until authlib 2.0. Importing
    # authlib.deprecate installs an "always" filter for its warning: ours goes in front of it.
    import authlib.deprecate

    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.jose import JsonWebKey, JsonWebToken, KeySet
    from authlib.jose.errors import JoseError

log = logging.getLogger("gateway")

RSA_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
JWKS_TTL = 3600.0
REFETCH_INTERVAL = 1.0
FETCH_TIMEOUT = 5.0
VERIFIED_CACHE_SIZE = 10_000


class JwksError(Exception):
    """The issuer's discovery document or JWKS could not be fetched or read."""


class Jwks:
    """One issuer's signing keys: fetched on first use, cached, refetched for an unknown ``kid``."""

    def __init__(
        self,
        issuer: str,
        *,
        ttl: float = JWKS_TTL,
        refetch_interval: float = REFETCH_INTERVAL,
        timer: Callable[[], float] = time.monotonic,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.issuer = issuer
        self.refetch_interval = refetch_interval
        self.timer = timer
        self.transport = transport
        self._cache: TTLCache[str, KeySet] = TTLCache(maxsize=1, ttl=ttl, timer=timer)
        self._fetched_at: float | None = None
        self._lock: asyncio.Lock | None = None
        self.fetches = 0
        #: bumped by every successful fetch: verified tokens of an older key set are verified again.
        self.generation = 0

    async def key(self, kid: str) -> Any:
        """The key for ``kid``, or None. Raises JwksError when the keys cannot be had at all."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            keys = self._cache.get("keys")
            if keys is None:
                keys = await self._fetch()
            found = _find(keys, kid)
            if found is None and self._may_refetch():
                found = _find(await self._fetch(), kid)
            return found

    def _may_refetch(self) -> bool:
        return self._fetched_at is None or self.timer() - self._fetched_at >= self.refetch_interval

    async def _fetch(self) -> KeySet:
        self._fetched_at = self.timer()
        self.fetches += 1
        discovery = f"{self.issuer.rstrip('/')}/.well-known/openid-configuration"
        try:
            async with httpx.AsyncClient(timeout=FETCH_TIMEOUT, transport=self.transport) as client:
                response = await client.get(discovery)
                response.raise_for_status()
                jwks_uri = response.json()["jwks_uri"]
                response = await client.get(jwks_uri)
                response.raise_for_status()
                keys = JsonWebKey.import_key_set(response.json())
        except (httpx.HTTPError, ValueError, KeyError, TypeError, JoseError) as exc:
            raise JwksError(f"cannot get the JWKS of {self.issuer} ({discovery}): {type(exc).__name__}: {exc}") \
                from exc
        self._cache["keys"] = keys
        self.generation += 1
        return keys


def _find(keys: KeySet, kid: str) -> Any:
    try:
        return keys.find_by_kid(kid)
    except ValueError:
        return None


def www_authenticate(description: str, *, error: str = "invalid_token", scope: str = "") -> tuple[str, str]:
    return ("www-authenticate", f'Bearer scope="{scope}" error="{error}" error_description="{description}"')


@dataclass(frozen=True, slots=True)
class _Verified:
    """A token whose signature verified with the key set of ``generation``, with what its claims
    decide once and for all, so a request repeating it only compares times and scopes."""

    generation: int
    #: what the integration gets, the same for every request with this token.
    authorization: Authorization
    #: (error_description, log text) when iss or aud is wrong: the same answer at any time.
    problem: tuple[str, str] | None
    #: exp (None: missing or not a number); the latest of nbf and iat (-inf: neither).
    expires: float | None
    not_before: float
    scopes: frozenset[str]


class JwtAuthorizer:
    """A JWT authorizer of an HTTP API; ``check`` is the per-request entry point."""

    def __init__(
        self,
        name: str,
        *,
        issuer: str,
        audience: tuple[str, ...],
        identity_source: str,
        jwks: Jwks | None = None,
    ) -> None:
        self.name = name
        self.issuer = issuer
        self.audience = frozenset(audience)
        self.source = IdentitySources.parse((identity_source,), "http")
        self.jwks = jwks or Jwks(issuer)
        self.decoder = JsonWebToken(list(RSA_ALGORITHMS))
        # Tokens whose signature verified, by their text: a token seen again skips the RSA check
        # (most of a JWT authorizer's cost) but never the clock and claim checks.
        self._verified: TTLCache[str, _Verified] = TTLCache(maxsize=VERIFIED_CACHE_SIZE, ttl=JWKS_TTL,
                                                            timer=self.jwks.timer)

    async def check(self, request: HttpRequest, match: RouteMatch, ctx: InvocationContext) -> Authorization:
        """Validate the request's token for ``match``'s route, or raise 401/403 as AWS does."""
        values = self.source.values(request, stage_variables={}, context=lambda _name: None)
        if values is None:
            raise self._invalid("the token is missing", "no token in the identity source")
        token = values[0]
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        try:
            verified: _Verified | None = self._verified[token]  # one lookup (TTLCache.get looks twice)
        except KeyError:
            verified = None
        if verified is None or verified.generation != self.jwks.generation:
            verified = self._examine(await self._verified_claims(token))
            self._verified[token] = verified
        self._check_time(verified, ctx.time_epoch_ms / 1000)
        required = getattr(match.route, "authorization_scopes", ())
        if required and verified.scopes.isdisjoint(required):
            raise Forbidden(
                f"JWT authorizer {self.name!r}: the token's scopes {sorted(verified.scopes)} include none of "
                f"the route's {list(required)}",
                body=b'{"message":"Forbidden"}',
                headers=(www_authenticate("the token does not have the required scopes",
                                          error="insufficient_scope", scope=" ".join(required)),),
            )
        return verified.authorization

    async def _verified_claims(self, token: str) -> dict[str, Any]:
        header = _header(token)
        if header is None:
            raise self._invalid("the token is malformed", "the token is not a JWS compact serialization")
        alg = header.get("alg")
        if alg not in RSA_ALGORITHMS:
            raise self._invalid(f"signing method {alg} is invalid", f"alg {alg!r} is not an RSA algorithm")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise self._invalid("the token has no kid", "the token's header has no kid")
        try:
            key = await self.jwks.key(kid)
        except JwksError as exc:
            log.warning("JWT authorizer %r: %s", self.name, exc)
            raise self._invalid("unable to fetch the issuer's keys", str(exc)) from exc
        if key is None:
            raise self._invalid(f"no key with kid {kid} was found", f"kid {kid!r} is not in the issuer's JWKS")
        try:
            claims = self.decoder.decode(token, key)
        except JoseError as exc:
            raise self._invalid("the token signature is invalid", f"{type(exc).__name__}: {exc}") from exc
        return dict(claims)

    def _examine(self, claims: dict[str, Any]) -> _Verified:
        """Decide what does not depend on the time: iss, then aud (client_id only without aud)."""
        problem = None
        aud = claims["aud"] if "aud" in claims else claims.get("client_id")
        if claims.get("iss") != self.issuer:
            problem = ("the token does not have a valid issuer", f"iss {claims.get('iss')!r} is not {self.issuer!r}")
        elif not any(isinstance(a, str) and a in self.audience for a in (aud if isinstance(aud, list) else [aud])):
            problem = ("the token does not have a valid audience",
                       f"aud/client_id {aud!r} matches none of {sorted(self.audience)}")
        exp = claims.get("exp")
        starts = [claims[name] for name in ("nbf", "iat") if claims.get(name) is not None]
        not_before = max((v if _number(v) else float("inf") for v in starts), default=float("-inf"))
        scopes = token_scopes(claims)
        return _Verified(
            generation=self.jwks.generation,
            authorization=Authorization(kind="jwt", claims=aws_claims(claims), scopes=scopes),
            problem=problem, expires=exp if _number(exp) else None, not_before=not_before,
            scopes=frozenset(scopes or ()),
        )

    def _check_time(self, verified: _Verified, now: float) -> None:
        """The per-request checks, in AWS's order: iss/aud, exp in the future, nbf and iat past."""
        if verified.problem is not None:
            raise self._invalid(*verified.problem)
        if verified.expires is None or verified.expires <= now:
            raise self._invalid("the token has expired", f"exp {verified.expires!r} is not after now ({now:.0f})")
        if verified.not_before > now:
            raise self._invalid("the token is not valid yet",
                                f"nbf/iat {verified.not_before!r} is after now ({now:.0f})")

    def _invalid(self, description: str, why: str) -> Unauthorized:
        return HTTP.unauthorized(f"JWT authorizer {self.name!r}: {why}", headers=(www_authenticate(description),))


def _header(token: str) -> dict[str, Any] | None:
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        return None
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except ValueError:
        return None
    return header if isinstance(header, dict) else None


def _number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def token_scopes(claims: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The token's scopes: ``scope`` (space-separated, RFC 8693) or ``scp`` (a list or a string)."""
    for name in ("scope", "scp"):
        value = claims.get(name)
        if isinstance(value, str):
            return tuple(value.split())
        if isinstance(value, list):
            return tuple(str(v) for v in value)
    return None


def aws_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as API Gateway hands them to the integration: every value a string."""
    return {name: _claim_text(value) for name, value in claims.items()}


def _claim_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + " ".join(_claim_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_claim_text(v)}" for k, v in sorted(value.items())) + "]"
    return "<nil>"
