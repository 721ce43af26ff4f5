"""The gateway the CORS tests run against (tests/e2e/test_cors.py, test_cors_browser.py).

Fronts, each with its own ``cors`` table:

* ``cors-http``: HTTP API; ``page_origin`` and the prefix wildcard ``https://*``; GET/PUT/POST;
  ``content-type`` and ``x-allowed``; exposes ``x-request-id``; max-age 300; no credentials.
* ``cors-http-creds``: HTTP API; ``page_origin`` only, with credentials.
* ``cors-http-other``: HTTP API that allows only ``http://other.example``.
* ``app-url``: function URL; ``page_origin``; GET/PUT; ``x-allowed``; exposes ``x-request-id``.
* ``app2-url``: function URL; ``*`` with credentials.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from gateway.config import GatewayConfig

HANDLERS = Path(__file__).parent / "handlers"


def cors_config(page_origin: str) -> GatewayConfig:
    fn = {"handler": "cors_app.handler", "code_uri": str(HANDLERS), "timeout": 10}
    routes = [{"route": "ANY /app/{proxy+}", "function": "app"}, {"route": "GET /only-get", "function": "app"}]
    http_cors = {
        "allow_origins": [page_origin, "https://*"], "allow_methods": ["GET", "PUT", "POST"],
        "allow_headers": ["content-type", "x-allowed"], "expose_headers": ["x-request-id"], "max_age": 300,
    }
    data: dict[str, Any] = {
        "gateway": {"access_log": False},
        "functions": {"app": fn, "app2": fn},
        "http_apis": [
            {"name": "cors-http", "listen": "127.0.0.1:0", "routes": routes, "cors": http_cors},
            {"name": "cors-http-creds", "listen": "127.0.0.1:0", "routes": routes,
             "cors": {"allow_origins": [page_origin], "allow_methods": ["GET", "PUT"],
                      "allow_headers": ["x-allowed"], "allow_credentials": True}},
            {"name": "cors-http-other", "listen": "127.0.0.1:0", "routes": routes,
             "cors": {"allow_origins": ["http://other.example"], "allow_methods": ["*"]}},
        ],
        "function_urls": [
            {"function": "app", "listen": "127.0.0.1:0",
             "cors": {"allow_origins": [page_origin], "allow_methods": ["GET", "PUT"],
                      "allow_headers": ["x-allowed"], "expose_headers": ["x-request-id"], "max_age": 300}},
            {"function": "app2", "listen": "127.0.0.1:0",
             "cors": {"allow_origins": ["*"], "allow_credentials": True, "allow_methods": ["*"]}},
        ],
    }
    return GatewayConfig.from_mapping(data, source="tests/e2e/cors_setup.py", base_dir=HANDLERS)


class Invocations:
    """A log sink that counts each function's invocations (its START lines)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.starts: dict[str, int] = {}

    def __call__(self, function: str, entry: str) -> None:
        if entry.startswith("START RequestId: "):
            with self.lock:
                self.starts[function] = self.starts.get(function, 0) + 1

    def count(self, function: str) -> int:
        with self.lock:
            return self.starts.get(function, 0)
