"""IAM matching primitives, pure: wildcards, ARN segments, policy variables (STYLE H2).

* Wildcards: ``*`` is any run of characters (none included), ``?`` exactly one; in Action, Resource
  and the ``...Like`` condition operators.
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
* ARNs are matched segment by segment: ``arn:partition:service:region:account:resource``, a wildcard
  never spans the colons of the first five segments; the resource part (the rest) may contain
  colons and slashes, which a ``*`` there does cross. A pattern that is not a six-part ARN is
  matched as a whole string. ARNs are case-sensitive.
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
* Policy variables (``Version: 2012-10-17`` only): ``${aws:username}``, a default with
  ``${aws:username, 'guest'}`` (``''`` is a quote inside it), and ``${*}``, ``${?}``, ``${$}`` for
  the literal characters. Key names are case-insensitive. A variable whose key is absent (or
  multi-valued) and has no default cannot be resolved: the caller treats the statement as not
  applying ("the entire statement might be invalid").
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

#: A request context: lowercase key -> its values (one for single-valued keys).
Context = Mapping[str, tuple[str, ...]]

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_DEFAULT = re.compile(r"^\s*([^,\s]+)\s*,\s*'((?:[^']|'')*)'\s*$")
_SPECIAL = {"*": "*", "?": "?", "$": "$"}


class Unresolved(Exception):
    """A policy variable has no value in the request context and no default."""


@lru_cache(maxsize=2048)
def wildcard(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    """``*`` and ``?`` as IAM means them; every other character literal. Cached by pattern."""
    parts = [".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern]
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


@dataclass(frozen=True, slots=True)
class _Var:
    key: str  # lowercase
    default: str | None


@dataclass(frozen=True, slots=True)
class _Lit:
    char: str  # from ${*}, ${?}, ${$}: never a wildcard


_Part = str | _Var | _Lit


def _parse(text: str, variables: bool) -> tuple[_Part, ...]:
    if not variables or "${" not in text:
        return (text,)
    parts: list[_Part] = []
    pos = 0
    for found in _VARIABLE.finditer(text):
        if found.start() > pos:
            parts.append(text[pos:found.start()])
        inner = found.group(1)
        if inner.strip() in _SPECIAL:
            parts.append(_Lit(inner.strip()))
        else:
            default = _DEFAULT.match(inner)
            if default:
                parts.append(_Var(default.group(1).lower(), default.group(2).replace("''", "'")))
            else:
                parts.append(_Var(inner.strip().lower(), None))
        pos = found.end()
    if pos < len(text):
        parts.append(text[pos:])
    return tuple(parts)


class Template:
    """A policy string that may hold policy variables, compiled once.

    ``text`` renders it for the equality operators; ``regex`` compiles it with wildcards for
    Resource and the ``Like`` operators. Both raise ``Unresolved`` for a variable without value."""

    __slots__ = ("source", "_parts", "_static")

    def __init__(self, source: str, *, variables: bool) -> None:
        self.source = source
        self._parts = _parse(source, variables)
        self._static = len(self._parts) == 1 and isinstance(self._parts[0], str)

    @property
    def has_variables(self) -> bool:
        return not self._static

    def text(self, context: Context) -> str:
        if self._static:
            return self.source
        out = []
        for part in self._parts:
            out.append(part if isinstance(part, str) else part.char if isinstance(part, _Lit)
                       else _value(part, context))
        return "".join(out)

    def regex(self, context: Context, ignore_case: bool = False) -> re.Pattern[str]:
        if self._static:
            return wildcard(self.source, ignore_case)
        pieces = []
        for part in self._parts:
            if isinstance(part, str):
                pieces.append(wildcard(part).pattern)
            else:
                literal = part.char if isinstance(part, _Lit) else _value(part, context)
                pieces.append(re.escape(literal))
        return re.compile("".join(pieces), re.DOTALL | (re.IGNORECASE if ignore_case else 0))

    def __repr__(self) -> str:
        return f"Template({self.source!r})"


def _value(var: _Var, context: Context) -> str:
    values = context.get(var.key)
    if values is not None and len(values) == 1:
        return values[0]
    if var.default is not None:
        return var.default
    raise Unresolved(var.key)


class ArnPattern:
    """An ARN pattern (Resource, ArnLike/ArnEquals), matched segment by segment.

    Without policy variables the pattern is one regex, compiled once: in the first five segments a
    wildcard stops at ``:``; in the resource part it does not."""

    __slots__ = ("source", "_static", "_whole", "_segments")

    def __init__(self, source: str, *, variables: bool) -> None:
        self.source = source
        parts = source.split(":", 5)
        self._whole = Template(source, variables=variables) if len(parts) != 6 else None
        self._segments = tuple(Template(p, variables=variables) for p in parts) if len(parts) == 6 else ()
        self._static: re.Pattern[str] | None = None
        if self._whole is not None and not self._whole.has_variables:
            self._static = wildcard(source)
        elif self._segments and not any(seg.has_variables for seg in self._segments):
            head = [_segment_regex(p) for p in parts[:5]]
            self._static = re.compile(":".join([*head, wildcard(parts[5]).pattern]), re.DOTALL)

    def matches(self, arn: str, context: Context) -> bool:
        """Raises ``Unresolved`` when a variable of the pattern has no value."""
        if self._static is not None:
            return self._static.fullmatch(arn) is not None
        if self._whole is not None:
            return self._whole.regex(context).fullmatch(arn) is not None
        parts = arn.split(":", 5)
        if len(parts) != 6:
            return False
        return all(seg.regex(context).fullmatch(part) is not None
                   for seg, part in zip(self._segments, parts, strict=True))

    def __repr__(self) -> str:
        return f"ArnPattern({self.source!r})"


def _segment_regex(text: str) -> str:
    """One of an ARN's first five segments: its wildcards never cross a ``:``."""
    return "".join("[^:]*" if ch == "*" else "[^:]" if ch == "?" else re.escape(ch) for ch in text)
