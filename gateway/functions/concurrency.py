"""Concurrency: how many invocations are in flight, and Lambda's throttling rules over them.

Lambda's concurrency is the number of invocations in flight. A function with
``reserved_concurrency`` R runs at most R at once, all its versions together, and those R are
taken out of the account's pool. Every other function shares what is left of
``gateway.concurrency_limit`` (an account's Regional limit, 1000 by default) once all the
reservations are taken out, and the provisioned concurrency of a function without a
reservation also counts as taken out for it. A synchronous invocation over a limit gets
TooManyRequestsException (429), with a ``Reason``.
https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html
https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
https://docs.aws.amazon.com/lambda/latest/dg/provisioned-concurrency.html

"In flight" means accepted by the functions service and not yet answered. For an in-process
function that includes the invocations that wait in its queue for its one environment. So
``reserved_concurrency = 5`` answers as AWS does (5 accepted at once, every other request
throttled) although only one of the five runs at a time. Every invoker counts the same way. A
caller that stops waiting (an API's integration timeout) frees its count at once, although the
function may run on until its own timeout: the count is low meanwhile.

AWS departures: AWS keeps at least 100 of the account's pool unreserved; here the reservations
may take all of it. There is no burst scaling rate: the pool is available at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from gateway.config import FunctionConfig
from gateway.errors import ConfigError, Throttled

#: TooManyRequestsException ``Reason`` values (the Invoke API's ThrottleReason).
#: https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors
RESERVED_LIMIT = "ReservedFunctionConcurrentInvocationLimitExceeded"
ACCOUNT_LIMIT = "ConcurrentInvocationLimitExceeded"


def provisioned_total(function: FunctionConfig) -> int:
    """Provisioned concurrency of the function and all its versions (a version inherits the function's)."""
    return function.provisioned_concurrency + sum(v.provisioned_concurrency for v in function.versions.values())


def check_concurrency(
    functions: Mapping[str, FunctionConfig], limit: int, fail: Callable[[str, str], ConfigError]
) -> None:
    """Reservations fit the limit; provisioned concurrency fits the function's reservation.

    "You can't allocate more provisioned concurrency than reserved concurrency for a function."
    https://docs.aws.amazon.com/lambda/latest/dg/provisioned-concurrency.html
    """
    taken = 0
    for name, function in functions.items():
        key = f"functions.{name}"
        reserved = function.reserved_concurrency
        provisioned = provisioned_total(function)
        if reserved is not None and not 0 <= reserved <= limit:
            raise fail(f"{key}.reserved_concurrency", f"must be between 0 and gateway.concurrency_limit ({limit})")
        if reserved is not None and provisioned > reserved:
            raise fail(f"{key}.provisioned_concurrency",
                       f"{provisioned} provisioned (the function and its versions together) is over "
                       f"reserved_concurrency {reserved}")
        taken += reserved if reserved is not None else provisioned
        if taken > limit:
            raise fail(f"{key}.reserved_concurrency" if reserved is not None else f"{key}.provisioned_concurrency",
                       f"the functions reserve {taken} in total (reserved, or provisioned without a reservation), "
                       f"over gateway.concurrency_limit {limit}")


class ConcurrencyLimits:
    """In-flight counts per function and gateway-wide; ``acquire`` throttles as Lambda does.

    Not thread-safe: the functions service calls it from the event loop only.
    """

    def __init__(self, functions: Mapping[str, FunctionConfig], limit: int) -> None:
        self.limit = limit
        self._reserved = {n: f.reserved_concurrency for n, f in functions.items() if f.reserved_concurrency is not None}
        self._provisioned = {n: provisioned_total(f) for n, f in functions.items() if n not in self._reserved}
        self.pool = limit - sum(self._reserved.values()) - sum(self._provisioned.values())
        self._in_flight = dict.fromkeys(functions, 0)
        self._pool_used = 0
        self.total = 0

    def acquire(self, name: str) -> None:
        """Count one more invocation of ``name``, or raise Throttled (with its ``reason``)."""
        running = self._in_flight[name]
        reserved = self._reserved.get(name)
        if reserved is not None:
            if running >= reserved:
                raise Throttled(
                    f"function {name!r} is at its reserved_concurrency ({reserved} in flight)", reason=RESERVED_LIMIT)
        elif running >= self._provisioned[name]:  # past its own provisioned environments: the shared pool
            if self._pool_used >= self.pool:
                raise Throttled(
                    f"the unreserved concurrency ({self.pool} of gateway.concurrency_limit {self.limit}) is in use",
                    reason=ACCOUNT_LIMIT)
            self._pool_used += 1
        self._in_flight[name] = running + 1
        self.total += 1

    def release(self, name: str) -> None:
        """One invocation of ``name`` has been answered."""
        running = self._in_flight[name] - 1
        self._in_flight[name] = running
        self.total -= 1
        if name not in self._reserved and running >= self._provisioned[name]:
            self._pool_used -= 1

    def in_flight(self, name: str) -> int:
        """Invocations of ``name`` (all versions) accepted and not yet answered (ConcurrentExecutions)."""
        return self._in_flight[name]
