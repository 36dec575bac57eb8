"""Token-bucket arithmetic, with an explicit clock."""

from __future__ import annotations

from search_api.ratelimit import RateLimiter


def test_a_burst_passes_then_the_refill_rate_applies() -> None:
    limiter = RateLimiter(per_minute=60, burst=2)
    assert [limiter.retry_after("a", now=0.0) for _ in range(3)] == [0, 0, 1]
    assert limiter.retry_after("a", now=1.0) == 0  # one token refilled after a second
    assert limiter.retry_after("b", now=1.0) == 0  # clients are independent


def test_the_wait_is_how_long_until_a_token_is_back() -> None:
    limiter = RateLimiter(per_minute=6, burst=1)
    assert limiter.retry_after("a", now=0.0) == 0
    assert limiter.retry_after("a", now=0.0) == 10


def test_forgotten_clients_are_bounded() -> None:
    limiter = RateLimiter(per_minute=60, burst=1, max_clients=2)
    for client in "abc":
        limiter.retry_after(client, now=0.0)
    assert limiter.retry_after("a", now=0.0) == 0  # "a" was evicted: it starts a fresh bucket
