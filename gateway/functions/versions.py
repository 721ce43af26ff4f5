"""Versions and aliases: which configuration a qualified function name runs.

``app`` and ``app:$LATEST`` run the function's own settings; ``app:2`` its version 2 (the
function's settings with the version's own laid over them, merged by the config loader);
``app:live`` the version its alias points to or, with ``additional_version_weights``, one of two
versions chosen per invocation. The choice is a pure function of a uniform draw in [0, 1): the
random number generator stays with the caller (the functions service).

https://docs.aws.amazon.com/lambda/latest/dg/configuration-versions.html
https://docs.aws.amazon.com/lambda/latest/dg/configuration-aliases.html
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from gateway.config import AliasConfig, FunctionConfig
from gateway.errors import ConfigError

LATEST = "$LATEST"

#: Published versions are numbers (CreateAlias ``FunctionVersion``: ``(\$LATEST|[0-9]+)``).
_VERSION = re.compile(r"[0-9]+")
#: CreateAlias ``Name``: ``(?!^[0-9]+$)([a-zA-Z0-9-_]+)``, 1-128 characters.
#: https://docs.aws.amazon.com/lambda/latest/api/API_CreateAlias.html
_ALIAS = re.compile(r"(?![0-9]+$)[a-zA-Z0-9_-]{1,128}")

Fail = Callable[[str, str], ConfigError]


def split_qualifier(reference: str) -> tuple[str, str | None]:
    """``"app:live"`` -> ``("app", "live")``; ``"app"`` -> ``("app", None)``."""
    name, sep, qualifier = reference.partition(":")
    return name, (qualifier if sep else None)


def function_arn(region: str, account_id: str, name: str, qualifier: str | None = None) -> str:
    """The function's ARN, qualified (``...:function:app:live``) when the caller named a qualifier."""
    arn = f"arn:aws:lambda:{region}:{account_id}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier is not None else arn


def alias_version(alias: AliasConfig, draw: float) -> str:
    """The version an alias sends one invocation to, for a uniform ``draw`` in [0, 1).

    Each invocation independently goes to the additional version with its weight ("Lambda uses
    a simple probabilistic model to distribute the traffic between the two function versions").
    https://docs.aws.amazon.com/lambda/latest/dg/configuring-alias-routing.html
    """
    for version, weight in alias.additional_version_weights.items():
        if draw < weight:
            return version
        draw -= weight
    return alias.version


def resolve(function: FunctionConfig, qualifier: str | None, draw: float) -> str | None:
    """The version that runs when ``qualifier`` is invoked ($LATEST when unqualified); None if unknown."""
    if qualifier is None or qualifier == LATEST:
        return LATEST
    if qualifier in function.versions:
        return qualifier
    alias = function.aliases.get(qualifier)
    return alias_version(alias, draw) if alias is not None else None


def version_config(function: FunctionConfig, version: str) -> FunctionConfig:
    """The configuration ``version`` runs with (the function's own for $LATEST)."""
    return function if version == LATEST else function.versions[version]


def is_weighted(function: FunctionConfig, qualifier: str) -> bool:
    """True when ``qualifier`` is an alias whose version is drawn per invocation."""
    alias = function.aliases.get(qualifier)
    return alias is not None and bool(alias.additional_version_weights)


# ---------------------------------------------------------------------------------------------
# Load-time checks (called by gateway.config_checks.finish)


def reference_problem(functions: Mapping[str, FunctionConfig], reference: str, *, url: bool = False) -> str | None:
    """Why a front's ``function = "name[:qualifier]"`` names nothing; None when it is fine.

    Function URLs attach to an alias or to $LATEST, never to a version number:
    https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html
    """
    name, qualifier = split_qualifier(reference)
    function = functions.get(name)
    if function is None:
        known = ", ".join(sorted(functions)) or "none are configured"
        return f"unknown function {name!r} (functions: {known})"
    if qualifier is None or qualifier == LATEST or qualifier in function.aliases:
        return None
    if qualifier in function.versions:
        return "a function URL can point to $LATEST or an alias, not to a version (as on AWS)" if url else None
    known = ", ".join([LATEST, *function.versions, *function.aliases])
    return f"function {name!r} has no version or alias {qualifier!r} (it has: {known})"


def check_versions(function: FunctionConfig, key: str, fail: Fail) -> None:
    """Version numbers, alias names and what each alias points to."""
    for label in function.versions:
        if not _VERSION.fullmatch(label):
            raise fail(f"{key}.versions.{label}", "version names are numbers, as Lambda's are (\"1\", \"2\" ...)")
    for name, alias in function.aliases.items():
        akey = f"{key}.aliases.{name}"
        if not _ALIAS.fullmatch(name):
            raise fail(akey, "alias names are 1-128 letters, digits, '-' or '_', and not only digits")
        if alias.version != LATEST and alias.version not in function.versions:
            raise fail(f"{akey}.version", _unknown_version(function, alias.version))
        _check_weights(function, alias, akey, fail)


def _check_weights(function: FunctionConfig, alias: AliasConfig, key: str, fail: Fail) -> None:
    """An alias points to at most two versions, both published, with the same execution role.

    Weights are 0.0-1.0 (AliasRoutingConfiguration). Not checked: the same dead-letter queue.
    https://docs.aws.amazon.com/lambda/latest/dg/configuring-alias-routing.html
    https://docs.aws.amazon.com/lambda/latest/api/API_AliasRoutingConfiguration.html
    """
    weights = alias.additional_version_weights
    if not weights:
        return
    if len(weights) > 1:
        raise fail(f"{key}.additional_version_weights", "an alias routes to at most two versions (one additional)")
    ((extra, weight),) = weights.items()
    wkey = f"{key}.additional_version_weights.{extra}"
    if LATEST in (alias.version, extra):
        raise fail(key, "a weighted alias cannot use $LATEST: both versions must be published versions (as on AWS)")
    if extra not in function.versions:
        raise fail(wkey, _unknown_version(function, extra))
    if extra == alias.version:
        raise fail(wkey, "is the alias's own version; the additional version must be another one")
    if not 0.0 <= weight <= 1.0:
        raise fail(wkey, "must be between 0.0 and 1.0")
    if function.versions[extra].role != function.versions[alias.version].role:
        raise fail(wkey, "both versions of a weighted alias must have the same role (as on AWS)")


def _unknown_version(function: FunctionConfig, version: str) -> str:
    known = ", ".join([LATEST, *function.versions])
    return f"unknown version {version!r} (versions: {known})"
