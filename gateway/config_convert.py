"""The config converter: a TOML mapping -> gateway.config's frozen dataclasses, by their type hints.

An unknown key or a wrong type raises ``ConfigError`` naming the file and the dotted key
(``http_apis[0].routes[1].function``). Used by ``GatewayConfig.from_mapping`` and by edge/config.py
for the ``[[distributions]]`` tables.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Union

from gateway.config import Address
from gateway.errors import ConfigError


class Converter:
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


