"""Identities and resource-based policies from the config: validated at load, looked up per request.

``check_identities`` runs while the config loads (config_checks.py ``finish``): every ``[[identities]]``
entry's keys, ARN and policies, and every function's ``policy``, are parsed; a bad one raises
``ConfigError`` naming the key (``identities[1].policies[0]``). A policy given as a file path
(anything that does not start with ``{``) is read then, relative to the config file, and its text
replaces the path, so nothing reads the file again.

``IamDirectory.from_config`` builds what the fronts look up: the identities by access key id, each
with its principal and compiled policies, and the functions' resource-based policies. With
``[gateway] trust_local_credentials = true`` the machine's standard credential chain (environment,
then ~/.aws/credentials and ~/.aws/config for AWS_PROFILE, read once at start) is one more
identity: the root user of the gateway's account, which IAM lets do anything in its account that
no policy explicitly denies.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from gateway.auth.policy import Policy, PolicyError, parse_policy
from gateway.auth.principals import Principal, principal_from_arn
from gateway.auth.sigv4 import Credentials
from gateway.errors import ConfigError

if TYPE_CHECKING:
    from gateway.config import FunctionConfig, GatewayConfig, IdentityConfig

log = logging.getLogger("gateway")

Fail = Callable[[str, str], ConfigError]


@dataclass(frozen=True, slots=True)
class Identity:
    """A caller that signs requests: its keys, who it is, its identity-based policies."""

    credentials: Credentials
    principal: Principal
    policies: tuple[Policy, ...] = ()
    source: str = ""  # "identities[0]" or "the local credential chain", for the log


def policy_text(value: str, base_dir: Path) -> str:
    """The JSON of a policy given inline or as a file path relative to ``base_dir``. Raises OSError."""
    if value.lstrip().startswith("{"):
        return value
    return (base_dir / value).read_text(encoding="utf-8")


def _load(value: str, key: str, kind: Literal["identity", "resource"], base_dir: Path, fail: Fail) -> str:
    try:
        text = policy_text(value, base_dir)
    except OSError as exc:
        raise fail(key, f"cannot read the policy file {value!r}: {exc.strerror or exc}") from None
    try:
        parse_policy(text, name=key, kind=kind)
    except PolicyError as exc:
        raise fail(key, f"invalid IAM policy: {exc}") from None
    return text


def check_identity(identity: IdentityConfig, key: str, base_dir: Path, fail: Fail) -> IdentityConfig:
    """One ``[[identities]]`` entry, with its policy files read in. Raises ConfigError."""
    for part in ("access_key_id", "secret_access_key"):
        if not getattr(identity, part):
            raise fail(f"{key}.{part}", "must not be empty")
    try:
        principal_from_arn(identity.arn)
    except ValueError as exc:
        raise fail(f"{key}.arn", str(exc)) from None
    policies = tuple(_load(p, f"{key}.policies[{i}]", "identity", base_dir, fail)
                     for i, p in enumerate(identity.policies))
    return dataclasses.replace(identity, policies=policies)


def check_identities(identities: Iterable[IdentityConfig], base_dir: Path, fail: Fail) -> tuple[IdentityConfig, ...]:
    """Every ``[[identities]]`` entry; access key ids must be unique."""
    seen: dict[str, str] = {}
    out = []
    for i, identity in enumerate(identities):
        key = f"identities[{i}]"
        out.append(check_identity(identity, key, base_dir, fail))
        used = seen.get(identity.access_key_id)
        if used is not None:
            raise fail(f"{key}.access_key_id", f"{identity.access_key_id!r} is already used by {used}")
        seen[identity.access_key_id] = key
    return tuple(out)


def check_function_policy(function: FunctionConfig, key: str, base_dir: Path, fail: Fail) -> FunctionConfig:
    """A function's resource-based ``policy`` (as ``aws lambda add-permission`` builds it), read in."""
    if function.policy is None:
        return function
    return dataclasses.replace(function, policy=_load(function.policy, f"{key}.policy", "resource", base_dir, fail))


class IamDirectory:
    """Identities by access key id and resource-based policies by function name (STYLE H4: built once)."""

    def __init__(self, identities: Iterable[Identity], resource_policies: Mapping[str, Policy] | None = None) -> None:
        self._identities = {i.credentials.access_key_id: i for i in identities}
        self._resource_policies = dict(resource_policies or {})

    def identity(self, access_key_id: str) -> Identity | None:
        return self._identities.get(access_key_id)

    def credentials(self, access_key_id: str) -> Credentials | None:
        """The lookup ``sigv4.verify`` takes."""
        found = self._identities.get(access_key_id)
        return None if found is None else found.credentials

    def resource_policy(self, function: str) -> Policy | None:
        return self._resource_policies.get(function)

    def __len__(self) -> int:
        """How many identities (resource policies not counted)."""
        return len(self._identities)

    @classmethod
    def from_config(cls, config: GatewayConfig, environ: Mapping[str, str] | None = None) -> IamDirectory:
        """The directory for a loaded (validated) config. Reads the local credential chain if trusted."""
        identities = [_identity(entry, f"identities[{i}]") for i, entry in enumerate(config.identities)]
        if config.gateway.trust_local_credentials:
            local = local_identity(config.gateway.account_id, os.environ if environ is None else environ)
            if local is None:
                log.warning("trust_local_credentials: the standard credential chain has no credentials")
            elif any(i.credentials.access_key_id == local.credentials.access_key_id for i in identities):
                log.warning("trust_local_credentials: access key %s is configured in [[identities]]; that entry wins",
                            local.credentials.access_key_id)
            else:
                identities.append(local)
        policies = {name: parse_policy(fn.policy, name=f"functions.{name}.policy", kind="resource")
                    for name, fn in config.functions.items() if fn.policy is not None}
        return cls(identities, policies)


def _identity(entry: IdentityConfig, key: str) -> Identity:
    principal = principal_from_arn(entry.arn, user_id=entry.user_id, org_id=entry.principal_org_id)
    policies = tuple(parse_policy(text, name=f"{key}.policies[{i}]") for i, text in enumerate(entry.policies))
    creds = Credentials(entry.access_key_id, entry.secret_access_key, entry.session_token)
    return Identity(creds, principal, policies, key)


def local_identity(account_id: str, environ: Mapping[str, str]) -> Identity | None:
    """The machine's credentials as the root user of ``account_id`` (None when the chain has none)."""
    from gateway.functions.credentials import resolve_chain  # the functions package imports auth: no cycle

    try:
        keys = resolve_chain(environ)
    except ValueError as exc:
        log.warning("trust_local_credentials: %s", exc)
        return None
    if keys is None:
        return None
    creds = Credentials(keys.access_key_id, keys.secret_access_key, keys.session_token)
    return Identity(creds, principal_from_arn(f"arn:aws:iam::{account_id}:root"), (), "the local credential chain")
