"""``[[distributions]]``: conversion, defaults and the errors naming the dotted key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from edge.distribution import compile_pattern
from gateway.config import GatewayConfig
from gateway.errors import ConfigError

HERE = Path(__file__).parent


def _config(dist: dict[str, Any], **extra: Any) -> GatewayConfig:
    base = {"name": "site", "listen": "127.0.0.1:0", "origins": [{"id": "up", "url": "http://127.0.0.1:5173"}],
            "behaviors": [{"path": "*", "origin": "up"}]}
    return GatewayConfig.from_mapping({"distributions": [{**base, **dist}], **extra}, base_dir=HERE)


def test_defaults_and_the_default_behavior_last() -> None:
    dist = _config({"behaviors": [{"path": "*", "origin": "up"}, {"path": "/api/*", "origin": "up"}]}).distributions[0]
    assert [b.path for b in dist.behaviors] == ["/api/*", "*"]
    assert dist.distribution_id.startswith("E") and dist.domain_name.endswith(".cloudfront.net")
    assert dist.origins[0].connect_timeout == 10 and dist.origins[0].read_timeout == 30


def test_a_front_used_as_an_origin_may_omit_listen() -> None:
    config = _config(
        {"origins": [{"id": "api", "front": "web"}], "behaviors": [{"path": "*", "origin": "api"}]},
        functions={"f": {"handler": "raw.echo_event", "code_uri": str(HERE.parent / "e2e" / "handlers")}},
        http_apis=[{"name": "web", "routes": [{"route": "$default", "function": "f"}]}],
    )
    assert config.http_apis[0].listen is None


@pytest.mark.parametrize(("dist", "key"), [
    ({"behaviors": [{"path": "/a/*", "origin": "up"}]}, "distributions[0].behaviors"),
    ({"behaviors": [{"path": "*", "origin": "nope"}]}, "distributions[0].behaviors[0].origin"),
    ({"origins": [{"id": "up"}]}, "distributions[0].origins[0]"),
    ({"origins": [{"id": "up", "url": "ftp://x"}]}, "distributions[0].origins[0].url"),
    ({"origins": [{"id": "up", "front": "missing"}]}, "distributions[0].origins[0].front"),
    ({"origins": [{"id": "up", "directory": "no-such-dir"}]}, "distributions[0].origins[0].directory"),
    ({"origins": [{"id": "up", "url": "http://x", "origin_path": "/a/"}]}, "distributions[0].origins[0].origin_path"),
    ({"origins": [{"id": "up", "url": "http://x", "connect_timeout": 11}]},
     "distributions[0].origins[0].connect_timeout"),
    ({"behaviors": [{"path": "*", "origin": "up", "allowed_methods": ["GET", "POST"]}]},
     "distributions[0].behaviors[0].allowed_methods"),
    ({"behaviors": [{"path": "*", "origin": "up", "viewer_request": {"function": "nope"}}]},
     "distributions[0].behaviors[0].viewer_request.function"),
    ({"behaviors": [{"path": "*", "origin": "up", "viewer_request": {"js": "x.js"}}]},
     "distributions[0].behaviors[0].viewer_request.js"),
    ({"behaviors": [{"path": "*", "origin": "up", "typo": 1}]}, "distributions[0].behaviors[0].typo"),
    ({"listen": None}, "distributions[0].listen"),
])
def test_errors_name_the_key(dist: dict[str, Any], key: str) -> None:
    if dist.get("listen", "") is None:
        dist = {k: v for k, v in dist.items() if k != "listen"}
        mapping = {"distributions": [{"name": "s", "origins": [{"id": "up", "url": "http://x"}],
                                      "behaviors": [{"path": "*", "origin": "up"}]}]}
        with pytest.raises(ConfigError) as info:
            GatewayConfig.from_mapping(mapping, base_dir=HERE)
    else:
        with pytest.raises(ConfigError) as info:
            _config(dist)
    assert info.value.key == key


@pytest.mark.parametrize(("pattern", "path", "hit"), [
    ("/images/*.jpg", "/images/a/b.jpg", True),
    ("images/*", "/images/x", True),
    ("/images/*", "/Images/x", False),
    ("/a?c", "/abc", True),
    ("/a?c", "/ac", False),
    ("*", "/anything", True),
])
def test_path_patterns(pattern: str, path: str, hit: bool) -> None:
    assert bool(compile_pattern(pattern).fullmatch(path)) is hit
