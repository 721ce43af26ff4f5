"""Execution role: the AWS credentials a function's environment carries.

On Lambda a handler finds its execution role's keys in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
and AWS_SESSION_TOKEN. Here they come from the function's ``role``: ``"inherit"`` (the gateway's
own credentials, from the standard chain, resolved once when the functions service is built),
a table of explicit keys, or nothing (the default). With nothing, no credentials are set, so a
handler cannot silently act with a developer's personal credentials.
https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html
https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime

Every function environment also gets the variables in ``NO_HOST_CREDENTIALS``, and none of the
gateway's ``GATEWAY_CREDENTIAL_VARIABLES``. Without them an SDK in the handler would find the
developer's ``~/.aws`` files or the host's instance metadata, which a Lambda environment does not have.
A function's ``environment`` may set them back (they are not reserved names).

The chain is the part of the SDKs' standard chain that needs no network: the environment
variables, then the shared credentials file, then the config file, for the profile in AWS_PROFILE
(else AWS_DEFAULT_PROFILE, else "default"). Environment keys win over AWS_PROFILE, as in botocore.
Not followed: SSO, credential_process, assume-role and web-identity profiles, container and
instance metadata. https://docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping
from pathlib import Path

from gateway.config import RoleKeys

#: The gateway's own variables that lead an SDK to credentials; removed from every function environment.
GATEWAY_CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY", "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
)

#: Set in every function environment: no shared files, no instance metadata (a Lambda environment has neither).
NO_HOST_CREDENTIALS = {
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}

#: After config load a role is "inherit", keys, or None (an identity's ARN is resolved to its keys).
Role = str | RoleKeys | None


def resolve_chain(environ: Mapping[str, str], home: Path | None = None) -> RoleKeys | None:
    """The gateway's own credentials (None if it has none). Raises ValueError for an unreadable file."""
    key_id, secret = environ.get("AWS_ACCESS_KEY_ID"), environ.get("AWS_SECRET_ACCESS_KEY")
    if key_id and secret:
        token = environ.get("AWS_SESSION_TOKEN") or environ.get("AWS_SECURITY_TOKEN") or None
        return RoleKeys(access_key_id=key_id, secret_access_key=secret, session_token=token)
    home = home or Path(environ.get("HOME") or Path.home())
    profile = environ.get("AWS_PROFILE") or environ.get("AWS_DEFAULT_PROFILE") or "default"
    credentials_file = _path(environ.get("AWS_SHARED_CREDENTIALS_FILE"), home, ".aws/credentials")
    found = _from_file(credentials_file, [profile])
    if found is None:  # the config file names sections "profile <name>" (and "default" for the default)
        sections = ["default", "profile default"] if profile == "default" else [f"profile {profile}"]
        found = _from_file(_path(environ.get("AWS_CONFIG_FILE"), home, ".aws/config"), sections)
    return found


def role_variables(role: Role) -> dict[str, str]:
    """AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN for a function's role (none without one).

    An unresolved ``"inherit"`` (an invoker built without the functions service) is resolved here,
    from the current ``os.environ``.
    """
    if isinstance(role, str):
        role = resolve_chain(os.environ) if role == "inherit" else None
    if role is None:
        return {}
    variables = {"AWS_ACCESS_KEY_ID": role.access_key_id, "AWS_SECRET_ACCESS_KEY": role.secret_access_key}
    if role.session_token:
        variables["AWS_SESSION_TOKEN"] = role.session_token
    return variables


def without_gateway_credentials(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` without the gateway's credential variables: the base for a child environment's."""
    hidden = set(GATEWAY_CREDENTIAL_VARIABLES)
    return {name: value for name, value in environ.items() if name not in hidden}


def _path(value: str | None, home: Path, default: str) -> Path:
    if not value:
        return home / default
    return home / value[2:] if value.startswith("~/") else Path(value)


def _from_file(path: Path, sections: list[str]) -> RoleKeys | None:
    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read AWS credentials from {path}: {exc}") from exc
    for section in sections:
        if not parser.has_section(section):
            continue
        key_id = parser.get(section, "aws_access_key_id", fallback="").strip()
        secret = parser.get(section, "aws_secret_access_key", fallback="").strip()
        if key_id and secret:
            token = parser.get(section, "aws_session_token", fallback="") or parser.get(
                section, "aws_security_token", fallback="")
            return RoleKeys(access_key_id=key_id, secret_access_key=secret, session_token=token.strip() or None)
    return None
