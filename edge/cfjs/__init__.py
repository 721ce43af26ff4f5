"""CloudFront Functions (``cloudfront-js-1.0`` / ``cloudfront-js-2.0``) at the viewer events.

``engine.py`` loads and runs one function, ``runtime.py`` is the JavaScript runtime CloudFront gives
it (and takes away), ``events.py`` (pure) builds the event and applies the return rules.

The engine: QuickJS through the ``quickjs`` package (the ``[js]`` extra). Measured on this
project's machine (Python 3.11, x86_64, 2 shared cores) against ``dukpy`` 0.6.0 (QuickJS inside
too, since 0.6) and ``mini-racer`` 0.14.1 (V8), calling a small viewer-request handler with a JSON
event in and out:

- per call, warm context: quickjs 19 us, dukpy 52 us, mini-racer 326-334 us (100 us when idle);
- all three run ES2020 (let/const, arrows, templates, async/await, Promise), more than either
  CloudFront runtime, so the js-1.0 syntax gate is ours (``engine.prepare``);
- limits: quickjs caps memory exactly (its runtime counts its own allocations: 2 MB is 2 MB on top
  of a ~60 KB empty context) and interrupts after a CPU-time budget, and the context stays usable
  after an interrupt; mini-racer has a timeout and a V8 heap limit, but V8's own heap is ~1.6 MB
  before any code runs, so 2 MB cannot be held precisely, and a process that timed out hangs at exit
  unless the context is closed; dukpy exposes neither a time nor a memory limit (an endless loop
  would hold a gateway thread for ever) and hands ``process.env`` (the gateway's environment) to JS;
- threads: one QuickJS runtime must stay on one thread (the binding's own note) -- we keep a
  context per thread; mini-racer serialises on its own V8 thread; dukpy has no statement;
- wheels for 3.11: quickjs x86_64 Linux/macOS/Windows but no Linux aarch64 wheel (pip builds the
  sdist, which carries the C sources, with the system C compiler); dukpy and mini-racer have
  x86_64 and aarch64 wheels;
- maintenance: quickjs's last release is 1.19.4 (2023-11); dukpy 0.6.0 (2026-07) and mini-racer
  0.14.1 (2026-02) are active.

quickjs is the only one that can enforce CloudFront's two limits (2 MB, a compute budget) as
CloudFront does, and it is the fastest (the < 100 us per request target rules out mini-racer);
its age and the aarch64 build are the price. One constraint shapes ``runtime.py``: the binding
refuses calls from JavaScript into Python while a time limit is set, so crypto, Buffer, querystring
and the key value store are plain JavaScript inside the context.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from edge.cfjs.engine import RUNTIMES, CloudFrontFunction, JsLoadError
from edge.cfjs.events import function_event, parse_request_result, parse_response_result
from edge.events import EdgeRequest, EdgeResponse

if TYPE_CHECKING:
    from edge.config import FunctionAssociation
    from gateway.errors import ConfigError

__all__ = ["RUNTIMES", "CloudFrontFunction", "JsLoadError", "check_association", "load_association", "run_request",
           "run_response"]


def run_request(
    fn: CloudFrontFunction, req: EdgeRequest, config: Mapping[str, str], now_ms: int
) -> EdgeRequest | EdgeResponse:
    """viewer-request: the (modified) request, or a generated response that skips cache and origin."""
    event = function_event("viewer-request", req, None, config)
    result = fn.run(event, now_ms)
    return parse_request_result("viewer-request", result.value, req, event["request"])


def run_response(fn: CloudFrontFunction, req: EdgeRequest, resp: EdgeResponse, config: Mapping[str, str],
                 now_ms: int) -> EdgeResponse:
    """viewer-response: the (modified) response."""
    event = function_event("viewer-response", req, resp, config)
    result = fn.run(event, now_ms)
    return parse_response_result("viewer-response", result.value, resp, event["response"])


def load_association(assoc: FunctionAssociation) -> CloudFrontFunction:
    """The CloudFront Function of an association with ``js`` (checked at config load already)."""
    assert assoc.js is not None
    return CloudFrontFunction(assoc.js, assoc.runtime, assoc.kvs)


def check_association(assoc: FunctionAssociation, key: str, fail: Callable[[str, str], ConfigError]) -> None:
    """Config checks of one function association (``key`` is e.g. ``distributions[0].behaviors[1].viewer_request``):
    ``kvs`` only with ``js`` on cloudfront-js-2.0, the .js file present, and the code loads."""
    if assoc.js is None:
        if assoc.kvs is not None:
            raise fail(f"{key}.kvs", "a key value store goes with a CloudFront Function ('js'), not with 'function'")
        return
    if assoc.include_body:
        raise fail(f"{key}.include_body", "a CloudFront Function never sees the request body")
    if assoc.kvs is not None and assoc.runtime != "cloudfront-js-2.0":
        raise fail(f"{key}.kvs", "a key value store needs runtime = \"cloudfront-js-2.0\"")
    if not assoc.js.is_file():
        raise fail(f"{key}.js", f"file {str(assoc.js)!r} does not exist")
    if assoc.kvs is not None and not assoc.kvs.is_file():
        raise fail(f"{key}.kvs", f"file {str(assoc.kvs)!r} does not exist")
    try:
        load_association(assoc)
    except JsLoadError as exc:
        raise fail(f"{key}.js", str(exc)) from None
