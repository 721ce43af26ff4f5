"""benchmarks/app_cost.py's in-process part runs as a user runs it (a child process) and prints its table."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_app_cost_in_process_part() -> None:
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "app_cost.py"), "--no-server", "--requests", "5",
                           "--callers", "4", "--rounds", "1"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = re.findall(r"^(bare starlette|gateway \w+)\s+(\d+\.\d)\s", done.stdout, re.MULTILINE)
    assert [name for name, _ in rows] == ["bare starlette", "gateway http_apis", "gateway rest_apis", "gateway albs",
                                          "gateway function_urls"]
    assert all(float(us) > 0 for _, us in rows)
