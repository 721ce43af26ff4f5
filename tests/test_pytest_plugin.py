"""The pytest plugin, run the way a user's project runs it: its own pytest session, over real HTTP."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

HANDLER = '''
def handler(event, context):
    return {"statusCode": 200, "body": event["rawPath"] + " " + context.function_name}
'''


def test_plugin_serves_config_and_gives_front_urls(pytester: pytest.Pytester) -> None:
    functions = pytester.mkdir("functions")
    (functions / "app.py").write_text(HANDLER)
    pytester.makefile(".toml", gateway=textwrap.dedent('''
        [functions.hello]
        handler = "app.handler"
        code_uri = "functions"

        [[http_apis]]
        name = "web"
        listen = "127.0.0.1:3999"
        routes = [ { route = "GET /items/{id}", function = "hello" } ]
    '''))
    pytester.makeini("[pytest]\nlambda_gateway_config = gateway.toml\n")
    pytester.makepyfile(test_user=textwrap.dedent('''
        import httpx

        def test_item(gateway_url, lambda_gateway):
            base = gateway_url("web")
            assert base.startswith("http://127.0.0.1:") and base.endswith("/")
            assert not base.endswith(":3999/")   # ephemeral ports by default
            r = httpx.get(base + "items/42")
            assert (r.status_code, r.text) == (200, "/items/42 hello")
            assert httpx.get(base + "nothing").status_code == 404

        def test_unknown_front(gateway_url):
            import pytest
            with pytest.raises(LookupError, match="no front named 'api' \\\\(fronts: web\\\\)"):
                gateway_url("api")
    '''))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_plugin_is_registered_as_entry_point() -> None:
    from importlib.metadata import entry_points

    names = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert names.get("lambda_gateway") == "gateway.pytest_plugin"
    assert sys.modules.get("gateway.pytest_plugin") is not None  # pytest loaded it for this very session
    assert Path(sys.modules["gateway.pytest_plugin"].__file__ or "").name == "pytest_plugin.py"
