"""Loading and running one CloudFront Function in QuickJS (see ``edge/cfjs/__init__.py`` for why
QuickJS and how it was measured).

A function is read, checked and compiled once at start (``load``); a config error names the file.
Each thread that runs it gets its own engine context (a QuickJS runtime is not safe to touch from
two threads, even one after the other), created on first use and reused for every later call on
that thread; a run that fails (an exception, the compute budget, the memory limit) throws its
context away, so the next run starts from a fresh one, as a CloudFront worker would.
"""

from __future__ import annotations

import importlib
import json
import logging
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge.cfjs.runtime import PRELUDE
from edge.events import EdgeExecutionError

log = logging.getLogger("gateway.edge.functions")

RUNTIMES = ("cloudfront-js-1.0", "cloudfront-js-2.0")
#: Maximum function size (cloudfront-limits.html, "Quotas on CloudFront Functions").
MAX_CODE_SIZE = 10 * 1024
#: Maximum function memory (same page): the budget for one run, on top of what the loaded code,
#: the runtime's own modules and the key value store already take in the context (measured after
#: loading, a few hundred KB; the engine counts its own allocations, so the cap is exact).
MEMORY_LIMIT = 2 * 1024 * 1024
#: [INF] CloudFront states no time limit, only "compute utilization" (a share of a maximum it does
#: not publish, reportedly about 1 ms of its own engine). QuickJS under Python is slower than that
#: and this machine is shared, so the budget is 50 ms of CPU per run: it stops runaway loops (503)
#: without failing a function that CloudFront would run. The engine measures process CPU time.
TIME_BUDGET = 0.05

#: ``import cf from 'cloudfront'`` (js-2.0; it must come first), rewritten to a variable on the same line.
IMPORT_CF = re.compile(r"""^(?P<lead>(?:\s|//[^\n]*\n|/\*.*?\*/)*)import\s+(?P<name>[A-Za-z_$][\w$]*)\s+from\s+"""
                       r"""(['"])cloudfront\3\s*;?""", re.DOTALL)
#: What js-1.0 does not accept: ES 5.1 plus arrow functions, template literals, rest parameters and
#: ``**`` only; ``let``/``const`` are named as not supported (functions-javascript-runtime-10.html).
NOT_IN_JS10 = {"let": "let", "const": "const", "class": "class", "await": "await", "async": "async functions",
               "import": "import", "export": "export", "yield": "generators"}
# One encoder and decoder for every run (``json.dumps`` with options builds an encoder per call).
_encode = json.JSONEncoder(separators=(",", ":")).encode
_decode = json.JSONDecoder().decode
_REGEX_BEFORE = set("(,=:[!&|?{};+-*%<>~^") | {""}
_REGEX_AFTER_WORDS = {"return", "typeof", "case", "do", "else", "in", "of", "new", "delete", "void", "throw"}


class JsLoadError(Exception):
    """The function cannot be loaded (size, syntax for its runtime, compile error, no handler)."""


def words(code: str) -> list[tuple[str, int]]:
    """The identifier-like tokens of ``code`` with their line numbers, leaving out comments, strings,
    template-literal text and regular-expression literals (a light lexer, enough for a syntax gate)."""
    out: list[tuple[str, int]] = []
    i, n, line, prev = 0, len(code), 1, ""
    depth: list[int] = []  # brace depth of each open ${...} in a template literal
    braces = 0
    while i < n:
        c = code[i]
        if c == "\n":
            line += 1
            i += 1
        elif c.isspace():
            i += 1
        elif code.startswith("//", i):
            i = code.find("\n", i) if "\n" in code[i:] else n
        elif code.startswith("/*", i):
            end = code.find("*/", i + 2)
            end = n if end < 0 else end + 2
            line += code.count("\n", i, end)
            i = end
        elif c in "'\"" or c == "`" or (c == "}" and depth and depth[-1] == braces):
            if c == "}":
                depth.pop()
                c = "`"
            i += 1
            while i < n and code[i] != c:
                if code[i] == "\\":
                    i += 1
                elif c == "`" and code.startswith("${", i):
                    depth.append(braces)
                    i += 2
                    break
                elif code[i] == "\n":
                    line += 1
                i += 1
            else:
                i += 1
            prev = "x"
        elif c == "/" and (prev in _REGEX_BEFORE or prev in _REGEX_AFTER_WORDS):
            i += 1
            klass = False
            while i < n and code[i] != "\n" and (code[i] != "/" or klass):
                if code[i] == "\\":
                    i += 1
                elif code[i] in "[]":
                    klass = code[i] == "["
                i += 1
            i += 1
            prev = "x"
        elif c.isalpha() or c in "_$":
            j = i
            while j < n and (code[j].isalnum() or code[j] in "_$"):
                j += 1
            prev = code[i:j]
            out.append((prev, line))
            i = j
        else:
            braces += {"{": 1, "}": -1}.get(c, 0)
            prev = c if not c.isdigit() else "x"
            i += 1
    return out


def prepare(path: Path, code: str, runtime: str) -> str:
    """The source as the engine runs it: the js-1.0 syntax gate applied, the ``cloudfront`` import
    rewritten (js-2.0) and strict mode on (always on in CloudFront Functions)."""
    if len(code.encode()) > MAX_CODE_SIZE:
        raise JsLoadError(f"{path}: the function is {len(code.encode())} bytes; CloudFront allows {MAX_CODE_SIZE}")
    match = IMPORT_CF.match(code)
    if match is not None:
        if runtime != "cloudfront-js-2.0":
            raise JsLoadError(f"{path}: the 'cloudfront' module needs runtime cloudfront-js-2.0")
        code = f"{match['lead']}var {match['name']} = __cloudfront;{code[match.end():]}"
    tokens = words(code)
    for k, (word, line) in enumerate(tokens):
        following = tokens[k + 1][0] if k + 1 < len(tokens) else ""
        if word == "import" or word == "export":
            raise JsLoadError(f"{path}:{line}: only `import cf from 'cloudfront'` (first line, js-2.0) can be imported")
        if runtime == "cloudfront-js-1.0" and word in NOT_IN_JS10 and (word != "async" or following == "function"):
            raise JsLoadError(f"{path}:{line}: {NOT_IN_JS10[word]} is not supported by cloudfront-js-1.0")
    return "'use strict';" + code


def read_kvs(path: Path) -> dict[str, str]:
    """A key value store in the JSON CloudFront imports: ``{"data": [{"key": .., "value": ..}]}``.
    https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/kvs-with-functions-create-s3-kvp.html
    """
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise JsLoadError(f"{path}: cannot read the key value store: {exc}") from None
    entries = raw.get("data") if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        raise JsLoadError(f"{path}: a key value store is {{\"data\": [{{\"key\": ..., \"value\": ...}}]}}")
    data: dict[str, str] = {}
    for i, entry in enumerate(entries):
        if not (isinstance(entry, dict) and isinstance(entry.get("key"), str) and isinstance(entry.get("value"), str)):
            raise JsLoadError(f"{path}: data[{i}] needs a string 'key' and a string 'value'")
        data[entry["key"]] = entry["value"]
    return data


@dataclass(slots=True)
class _Context:
    ctx: Any
    invoke: Any
    take: Any


@dataclass(frozen=True, slots=True)
class RunResult:
    """What the function returned (parsed JSON) and what it logged."""

    value: Any
    logs: tuple[str, ...]


class CloudFrontFunction:
    """One CloudFront Function: its code loaded and checked, an engine context per thread."""

    def __init__(self, path: Path, runtime: str = "cloudfront-js-2.0", kvs: Path | None = None, *,
                 name: str | None = None, time_budget: float = TIME_BUDGET) -> None:
        try:
            self._quickjs = importlib.import_module("quickjs")
        except ImportError:
            raise JsLoadError("CloudFront Functions need a JavaScript engine: "
                              "pip install 'lambda-gateway[js]'") from None
        if runtime not in RUNTIMES:
            raise JsLoadError(f"{path}: runtime must be one of {', '.join(RUNTIMES)}")
        if kvs is not None and runtime != "cloudfront-js-2.0":
            raise JsLoadError(f"{path}: a key value store needs runtime cloudfront-js-2.0")
        self.path = path
        self.name = name or path.stem
        self.runtime = runtime
        self.time_budget = time_budget
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise JsLoadError(f"{path}: cannot read the function: {exc}") from None
        self._code = prepare(path, source, runtime)
        kvs_json = None
        if kvs is not None:
            kvs_json = json.dumps({"data": read_kvs(kvs), "created": "1970-01-01T00:00:00.000Z"})
        self._kvs_json = kvs_json
        self._local = threading.local()
        self._context()  # compile now: errors belong to start-up, not to the first request

    def _context(self) -> _Context:
        found: _Context | None = getattr(self._local, "context", None)
        if found is not None:
            return found
        qjs = self._quickjs
        ctx = qjs.Context()
        ctx.set_time_limit(self.time_budget)
        try:
            setup = ctx.eval(PRELUDE)
            bind = setup(self.runtime, self._kvs_json)
            ctx.eval(self._code)
            handler = ctx.eval("typeof handler === 'function' ? handler : null")
        except qjs.JSException as exc:
            raise JsLoadError(f"{self.path}: {_first_line(exc)}") from None
        if handler is None:
            raise JsLoadError(f"{self.path}: the code defines no function named 'handler'")
        context = _Context(ctx=ctx, invoke=bind(handler, "invoke"), take=bind(handler, "take"))
        ctx.gc()
        ctx.set_memory_limit(ctx.memory()["memory_used_size"] + MEMORY_LIMIT)
        self._local.context = context
        return context

    def run(self, event: dict[str, Any], now_ms: int) -> RunResult:
        """Run the handler on ``event`` with ``Date`` fixed at ``now_ms``; an exception, an unsettled
        promise, the compute budget or the memory limit is an :class:`EdgeExecutionError` (503)."""
        try:
            context = self._context()
        except JsLoadError as exc:  # it loaded at start; a fresh context failing now is an execution error
            raise EdgeExecutionError(f"CloudFront Function {self.name}: {exc}") from None
        qjs = self._quickjs
        started = time.process_time()
        try:
            out = context.invoke(_encode(event), float(now_ms))
            if out is None:  # an async handler: run its jobs within what is left of the budget
                while True:
                    left = self.time_budget - (time.process_time() - started)
                    context.ctx.set_time_limit(max(left, 0.0))
                    if not context.ctx.execute_pending_job():
                        break
                context.ctx.set_time_limit(self.time_budget)
                out = context.take()
            result = _decode(out)
        except qjs.JSException as exc:
            self._local.context = None
            raise EdgeExecutionError(self._why(exc)) from None
        logs = tuple(result.get("logs", ()))
        if logs:
            self._log(logs)
        if "error" in result:
            self._local.context = None
            if "interrupted" in result["error"] or "out of memory" in result["error"]:
                raise EdgeExecutionError(self._why(result["error"]))
            raise EdgeExecutionError(f"CloudFront Function {self.name}: execution error: {result['error']}")
        if not result.get("done"):
            self._local.context = None
            raise EdgeExecutionError(f"CloudFront Function {self.name}: the handler's promise never settled")
        return RunResult(value=result.get("result"), logs=logs)

    def _why(self, exc: Any) -> str:
        text = str(exc)
        if "interrupted" in text:
            return f"CloudFront Function {self.name}: the function exceeded its compute budget ({self.time_budget:g} s)"
        if "out of memory" in text or text.strip() == "null":
            return f"CloudFront Function {self.name}: the function exceeded its memory limit (2 MB)"
        return f"CloudFront Function {self.name}: execution error: {text.strip()}"

    def _log(self, logs: tuple[str, ...]) -> None:
        for line in logs:
            log.info("CloudFront Function %s: %s", self.name, line)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
