"""Principals: who a request comes from, and the Principal/NotPrincipal element that names them. Pure.

A caller is a chain of entities, most specific first: an IAM user (its ARN, then its account), a
role session (the session ARN, the role, the account), the account's root user (the account), or
the anonymous caller. ``Principal`` matches when one entity of the chain is named; naming only the
account *delegates* to the account's own policies (``ACCOUNT``) rather than granting by itself.
``NotPrincipal`` excludes a caller only when every entity of its chain is named, which is why AWS's
examples list the session, the role and the account together.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html

The context keys of a principal follow the table "Request information that you can use for policy
variables": aws:userid is the unique id (``AIDA...``), ``AROA...:session`` for a role session, the
account id for the root user and ``anonymous`` for anonymous callers; aws:username exists for IAM
users only; aws:PrincipalArn of a role session is the role's ARN.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#principaltable
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

_ARN = re.compile(r"^arn:(?P<partition>aws[a-z-]*):(?P<service>iam|sts)::(?P<account>\d{12}):(?P<resource>.+)$")
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

#: An entity of a caller's chain: ("account", id), ("role", account, name) or ("arn", exact ARN).
Entity = tuple[str, ...]


class Level(enum.IntEnum):
    """How a Principal element matched a caller."""

    NONE = 0
    ACCOUNT = 1  # only the account is named: delegation, not a grant by itself
    ENTITY = 2  # the caller itself (or "*")


@dataclass(frozen=True, slots=True)
class Principal:
    """A caller. ``arn`` is None for the anonymous caller."""

    arn: str | None
    account: str | None
    kind: str  # aws:PrincipalType: User, AssumedRole, FederatedUser, Account, Anonymous
    userid: str
    username: str | None = None
    role_arn: str | None = None
    org_id: str | None = None
    chain: tuple[Entity, ...] = ()

    @property
    def anonymous(self) -> bool:
        return self.arn is None

    @property
    def is_root(self) -> bool:
        return self.kind == "Account"

    def context(self) -> dict[str, str]:
        """The aws:* principal keys of the request context."""
        keys = {"aws:userid": self.userid, "aws:PrincipalType": self.kind}
        if self.arn is not None and self.account is not None:
            keys["aws:PrincipalArn"] = self.role_arn or self.arn
            keys["aws:PrincipalAccount"] = self.account
            keys["aws:PrincipalIsAWSService"] = "false"
        if self.username is not None:
            keys["aws:username"] = self.username
        if self.org_id:
            keys["aws:PrincipalOrgID"] = self.org_id
        return keys

    def __str__(self) -> str:
        return self.arn or "anonymous"


ANONYMOUS = Principal(arn=None, account=None, kind="Anonymous", userid="anonymous", chain=(("anonymous",),))


def unique_id(prefix: str, seed: str) -> str:
    """An AWS-shaped unique id (``AIDA`` + 17 characters), stable for ``seed``."""
    digest = int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big")
    chars = []
    for _ in range(17):
        digest, rem = divmod(digest, 32)
        chars.append(_ID_ALPHABET[rem])
    return prefix + "".join(chars)


def principal_from_arn(arn: str, *, user_id: str = "", org_id: str | None = None) -> Principal:
    """The caller an identity's ARN names. Raises ValueError for an ARN that cannot sign requests.

    Accepted: ``arn:aws:iam::ACCOUNT:user/[path/]NAME``, ``arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION``,
    ``arn:aws:sts::ACCOUNT:federated-user/NAME`` and ``arn:aws:iam::ACCOUNT:root``."""
    found = _ARN.match(arn)
    if found is None:
        raise ValueError(f"{arn!r} is not an IAM or STS ARN like arn:aws:iam::123456789012:user/alice")
    account, resource, service = found["account"], found["resource"], found["service"]
    kind, _, rest = resource.partition("/")
    if service == "iam" and resource == "root":
        return Principal(arn=arn, account=account, kind="Account", userid=user_id or account,
                         org_id=org_id, chain=(("account", account),))
    if service == "iam" and kind == "user" and rest:
        return Principal(arn=arn, account=account, kind="User", userid=user_id or unique_id("AIDA", arn),
                         username=rest.rsplit("/", 1)[-1], org_id=org_id, chain=(("arn", arn), ("account", account)))
    if service == "sts" and kind == "assumed-role" and rest.count("/") == 1 and all(rest.split("/")):
        role, session = rest.split("/")
        role_arn = f"arn:{found['partition']}:iam::{account}:role/{role}"
        userid = user_id or f"{unique_id('AROA', role_arn)}:{session}"
        return Principal(arn=arn, account=account, kind="AssumedRole", userid=userid, role_arn=role_arn,
                         org_id=org_id, chain=(("arn", arn), ("role", account, role), ("account", account)))
    if service == "sts" and kind == "federated-user" and rest:
        return Principal(arn=arn, account=account, kind="FederatedUser", userid=user_id or f"{account}:{rest}",
                         org_id=org_id, chain=(("arn", arn), ("account", account)))
    if service == "iam" and kind == "role":
        raise ValueError(f"{arn!r} is a role: requests are signed by a role session, name it as "
                         f"arn:aws:sts::{account}:assumed-role/{rest.rsplit('/', 1)[-1]}/SESSION")
    raise ValueError(f"{arn!r} names no caller: use a user, assumed-role session, federated-user or root ARN")


def entity_of(value: str) -> Entity:
    """The entity a Principal element's ``AWS`` value names. Raises ValueError for a malformed one."""
    if re.fullmatch(r"\d{12}", value):
        return ("account", value)
    found = _ARN.match(value)
    if found is None:
        if value.startswith("arn:"):
            return ("arn", value)
        raise ValueError(f"invalid principal {value!r}: use \"*\", an account id or an ARN")
    kind, _, rest = found["resource"].partition("/")
    if found["resource"] == "root":
        return ("account", found["account"])
    if found["service"] == "iam" and kind == "role" and rest:
        return ("role", found["account"], rest.rsplit("/", 1)[-1])  # a role's path is not in its sessions
    return ("arn", value)


@dataclass(frozen=True, slots=True)
class PrincipalSet:
    """A parsed Principal or NotPrincipal element. ``star``: ``"*"`` or ``{"AWS": "*"}``."""

    star: bool
    entities: frozenset[Entity]
    negated: bool

    def level(self, principal: Principal) -> Level:
        """How a positive Principal element matches ``principal``."""
        if self.star:
            return Level.ENTITY
        best = Level.NONE
        for entity in principal.chain:
            if entity in self.entities:
                best = max(best, Level.ACCOUNT if entity[0] == "account" else Level.ENTITY)
        return best

    def applies(self, principal: Principal) -> Level:
        """Whether the statement applies to ``principal`` (Principal or NotPrincipal)."""
        if not self.negated:
            return self.level(principal)
        if self.star:
            return Level.NONE
        listed = all(entity in self.entities for entity in principal.chain)
        return Level.NONE if listed else Level.ENTITY


def parse_principal(value: object, *, negated: bool) -> PrincipalSet:
    """Parse ``"*"`` or ``{"AWS"|"Service"|"Federated"|"CanonicalUser": str | [str]}``. Raises ValueError.

    Service, federated and canonical-user principals are kept but never match a signed caller."""
    if value == "*":
        return PrincipalSet(star=True, entities=frozenset(), negated=negated)
    if not isinstance(value, dict) or not value:
        raise ValueError('must be "*" or an object such as {"AWS": "arn:aws:iam::123456789012:root"}')
    star = False
    entities: set[Entity] = set()
    for kind, raw in value.items():
        if kind not in ("AWS", "Service", "Federated", "CanonicalUser"):
            raise ValueError(f"unknown principal type {kind!r} (AWS, Service, Federated, CanonicalUser)")
        for item in _strings(raw, kind):
            if kind == "AWS" and item == "*":
                star = True
            elif kind == "AWS":
                entities.add(entity_of(item))
            else:
                entities.add((kind.lower(), item))
    return PrincipalSet(star=star, entities=frozenset(entities), negated=negated)


def _strings(raw: object, where: str) -> Iterable[str]:
    items = raw if isinstance(raw, list) else [raw]
    for item in items:
        if not isinstance(item, str) or not item:
            raise ValueError(f"{where} values must be non-empty strings")
        yield item
