"""Failing well when a remote embedder fails: retries under one deadline, and a circuit breaker.

`call_with_retries` is the one retry loop of every transport (HTTP, Modal SDK): jittered
exponential backoff, `Retry-After` honoured, no attempt or sleep past the caller's deadline.
`CircuitBreaker` stops calling a service that keeps failing:

```
 closed ──N consecutive failures──▶ open ──cooldown──▶ half-open ──probe ok──▶ closed
                                     ▲                     │
                                     └────probe failed─────┘
```
While open, calls fail at once with `CircuitOpen` (an `EmbedderUnavailable`), so a search
degrades to keyword results in microseconds instead of waiting out timeouts. Half-open lets one
probe through; the others still fail fast. Only unavailability (timeouts, refused connections,
429, 5xx) counts as a failure: a service that answers, even with a refusal, is reachable. A call
its caller cancels teaches nothing, unless the caller says its deadline expired
(`record_timeout`): a hung service would otherwise cost every caller its whole deadline.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from podsearch.errors import CircuitOpen, EmbedderError, EmbedderUnavailable

T = TypeVar("T")
MAX_DELAY_S = 8.0


class CircuitState(StrEnum):
    closed = "closed"
    open = "open"
    half_open = "half_open"


@dataclass(frozen=True)
class CircuitSnapshot:
    """What /ready shows about the embedder's circuit."""

    state: CircuitState
    consecutive_failures: int
    retry_in_s: float | None
    last_error: str | None


class CircuitBreaker:
    """Opens after `failure_threshold` consecutive failed calls, for `cooldown_s` seconds."""

    def __init__(
        self,
        failure_threshold: int = 5,
        cooldown_s: float = 15.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1 or cooldown_s <= 0:
            raise ValueError("failure_threshold must be >= 1 and cooldown_s > 0")
        self.failure_threshold = failure_threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False
        self._last_error: str | None = None

    @property
    def state(self) -> CircuitState:
        if self._opened_at is None:
            return CircuitState.closed
        if self._clock() - self._opened_at < self.cooldown_s:
            return CircuitState.open
        return CircuitState.half_open

    def snapshot(self) -> CircuitSnapshot:
        state = self.state
        retry_in = None
        if state is CircuitState.open and self._opened_at is not None:
            retry_in = max(0.0, self._opened_at + self.cooldown_s - self._clock())
        return CircuitSnapshot(state, self._failures, retry_in, self._last_error)

    async def call(self, what: str, run: Callable[[], Awaitable[T]]) -> T:
        """Run `run()` unless the circuit is open; record how it went."""
        probe = self._admit(what)
        try:
            result = await run()
        except EmbedderUnavailable as exc:
            self._failed(str(exc))
            raise
        except EmbedderError:  # it answered, if only to refuse: it is reachable
            self._succeeded()
            raise
        except BaseException:  # our caller gave up, or a bug: nothing learnt about the service
            if probe:
                self._probing = False
            raise
        self._succeeded()
        return result

    def record_timeout(self, error: str) -> None:
        """A caller's deadline cut a call short: a failure like any timeout of our own."""
        self._failed(error)

    def _admit(self, what: str) -> bool:
        state = self.state
        if state is CircuitState.closed:
            return False
        if state is CircuitState.half_open and not self._probing:
            self._probing = True
            return True
        snapshot = self.snapshot()
        wait = f"retry in {snapshot.retry_in_s:.1f}s" if snapshot.retry_in_s else "probe in flight"
        raise CircuitOpen(
            f"circuit open: {what} not attempted after {self._failures} consecutive failures "
            f"({wait}; last: {self._last_error})"
        )

    def _failed(self, error: str) -> None:
        self._failures += 1
        self._last_error = error
        if self._probing or self._failures >= self.failure_threshold:
            self._opened_at = self._clock()
        self._probing = False

    def _succeeded(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._probing = False


class Retryable(Exception):
    """Raised by an attempt that may succeed if tried again (after `retry_after_s`)."""

    def __init__(self, problem: str, retry_after_s: float = 0.0) -> None:
        super().__init__(problem)
        self.problem = problem
        self.retry_after_s = retry_after_s


async def call_with_retries(
    attempt: Callable[[float | None], Awaitable[T]],
    *,
    what: str,
    retries: int,
    backoff_s: float,
    deadline: float | None,
    attempt_timeout_s: float | None = None,
) -> T:
    """Call `attempt(seconds_left)` until it returns, raises a non-`Retryable` error, runs out
    of attempts (`EmbedderUnavailable`) or would run past `deadline` (loop time)."""
    loop = asyncio.get_running_loop()
    attempts = retries + 1
    problem = "not attempted"
    for n in range(attempts):
        remaining = None if deadline is None else deadline - loop.time()
        if remaining is not None and remaining <= 0:
            raise EmbedderUnavailable(f"{what}: deadline passed")
        bound = min(t for t in (remaining, attempt_timeout_s, float("inf")) if t is not None)
        retry_after = 0.0
        try:
            async with asyncio.timeout(None if bound == float("inf") else bound):
                return await attempt(remaining)
        except Retryable as exc:
            problem, retry_after = exc.problem, exc.retry_after_s
        except TimeoutError as exc:
            problem = f"{type(exc).__name__}: {exc}".rstrip(": ")
        if n + 1 == attempts:
            break
        ceiling = min(MAX_DELAY_S, backoff_s * 2**n)
        delay = max(ceiling / 2 + random.uniform(0, ceiling / 2), min(retry_after, MAX_DELAY_S))
        if deadline is not None and loop.time() + delay >= deadline:
            raise EmbedderUnavailable(f"{what}: {problem} (no time left to retry)")
        await asyncio.sleep(delay)
    raise EmbedderUnavailable(f"{what}: {problem} (after {attempts} attempts)")
