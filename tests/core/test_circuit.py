"""The circuit breaker on a fake clock: when it opens, fails fast, probes and closes."""

from __future__ import annotations

import asyncio

import pytest

from podsearch.circuit import CircuitBreaker, CircuitState
from podsearch.errors import EmbedderError, EmbedderUnavailable
from tests.support import Clock


async def unavailable() -> None:
    raise EmbedderUnavailable("connect refused")


async def answered() -> str:
    return "vectors"


async def test_the_circuit_opens_after_n_consecutive_failures_and_then_fails_fast() -> None:
    clock = Clock()
    circuit = CircuitBreaker(failure_threshold=3, cooldown_s=10, clock=clock)
    attempts = 0

    async def counted() -> None:
        nonlocal attempts
        attempts += 1
        await unavailable()

    for _ in range(3):
        assert circuit.state is CircuitState.closed
        with pytest.raises(EmbedderUnavailable, match="connect refused"):
            await circuit.call("embed", counted)
    with pytest.raises(EmbedderUnavailable, match="circuit open: embed not attempted") as fast:
        await circuit.call("embed", counted)

    assert attempts == 3
    assert "retry in 10.0s" in str(fast.value) and "connect refused" in str(fast.value)
    snapshot = circuit.snapshot()
    assert (snapshot.state, snapshot.consecutive_failures, snapshot.retry_in_s) == (
        CircuitState.open,
        3,
        10.0,
    )


async def test_a_success_resets_the_count_and_refusals_are_not_failures() -> None:
    circuit = CircuitBreaker(failure_threshold=2, cooldown_s=10, clock=Clock())

    async def refused() -> None:
        raise EmbedderError("embedder refused: 401 unauthorized")

    with pytest.raises(EmbedderUnavailable):
        await circuit.call("embed", unavailable)
    assert await circuit.call("embed", answered) == "vectors"
    with pytest.raises(EmbedderUnavailable):
        await circuit.call("embed", unavailable)
    with pytest.raises(EmbedderError):
        await circuit.call("embed", refused)

    assert circuit.state is CircuitState.closed
    assert circuit.snapshot().consecutive_failures == 0


async def test_after_the_cooldown_one_probe_decides_whether_it_closes() -> None:
    clock = Clock()
    circuit = CircuitBreaker(failure_threshold=1, cooldown_s=5, clock=clock)
    with pytest.raises(EmbedderUnavailable):
        await circuit.call("embed", unavailable)
    clock.now += 5
    assert circuit.state is CircuitState.half_open

    probe_started, release = asyncio.Event(), asyncio.Event()

    async def slow_probe() -> None:
        probe_started.set()
        await release.wait()
        await unavailable()

    probe = asyncio.create_task(circuit.call("embed", slow_probe))
    await probe_started.wait()
    with pytest.raises(EmbedderUnavailable, match="probe in flight"):
        await circuit.call("embed", answered)
    release.set()
    with pytest.raises(EmbedderUnavailable, match="connect refused"):
        await probe
    assert circuit.state is CircuitState.open  # the failed probe opened it again

    clock.now += 5
    assert await circuit.call("embed", answered) == "vectors"
    assert circuit.state is CircuitState.closed
