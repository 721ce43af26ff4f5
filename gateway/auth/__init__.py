"""Authentication and authorization as AWS does it: SigV4 (``sigv4``, pure); later IAM policies, JWT, CORS."""

from __future__ import annotations
