"""What the Lambda API tests share: a boto3 client for a running gateway, polling, JSONL files, ports."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config


def lambda_client(url: str) -> Any:
    """boto3's Lambda client for the gateway's ``lambda_api`` base URL, unretried, with dummy keys."""
    return boto3.client(
        "lambda", endpoint_url=url.rstrip("/"), region_name="us-east-1",
        aws_access_key_id="x", aws_secret_access_key="y", config=Config(retries={"max_attempts": 1}),
    )


def wait_for(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Poll ``check`` until it gives a truthy value; that value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"not true within {timeout} s: {check}")


def lines(path: Path) -> list[dict[str, Any]]:
    """A JSONL file's records ([] while it does not exist)."""
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def free_ports(count: int) -> list[int]:
    socks = [socket.socket() for _ in range(count)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()
