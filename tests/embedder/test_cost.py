"""The cost model on plain numbers: idle windows, cold starts and warm pools are paid for."""

from __future__ import annotations

import math

import pytest

from embedder.cost import A10G_USD_PER_S, DAY_S, DAYS_PER_MONTH, Policy, Traffic, estimate, main

A_MONTH_OF_ONE_A10G = DAY_S * DAYS_PER_MONTH * A10G_USD_PER_S  # about $805


def test_sparse_traffic_pays_a_cold_start_and_a_full_window_per_request() -> None:
    policy = Policy(latency_s=0.02, cold_start_s=5, scaledown_s=120)

    e = estimate(Traffic(requests_per_day=10), policy)

    assert e.billed_s_per_day == pytest.approx(10 * (120.02 + 5), rel=0.01)
    assert e.cold_request_share == pytest.approx(1.0, abs=0.02)
    assert e.usd_per_request == pytest.approx(125.02 * A10G_USD_PER_S, rel=0.01)


def test_busy_traffic_keeps_one_gpu_alive_all_day_and_starts_it_almost_never() -> None:
    e = estimate(Traffic(requests_per_day=100_000), Policy())

    assert e.billed_s_per_day == pytest.approx(DAY_S, rel=1e-6)
    assert e.monthly_usd == pytest.approx(A_MONTH_OF_ONE_A10G, rel=1e-6)
    assert e.cold_starts_per_day < 1e-6
    assert e.containers_at_peak == 1


def test_the_price_per_request_falls_with_volume_unlike_a_flat_rate() -> None:
    prices = [estimate(Traffic(n), Policy()).usd_per_request for n in (10, 100, 1_000, 100_000)]

    assert prices == sorted(prices, reverse=True)
    assert prices[0] / prices[-1] > 100


def test_a_warm_container_costs_a_month_of_gpu_whatever_the_traffic() -> None:
    warm = Policy(min_containers=1)

    for volume in (0, 10, 1_000):
        e = estimate(Traffic(volume), warm)
        assert e.monthly_usd == pytest.approx(A_MONTH_OF_ONE_A10G)
        assert e.cold_starts_per_day == 0
    assert estimate(Traffic(0), Policy(min_containers=2)).monthly_usd == pytest.approx(
        2 * A_MONTH_OF_ONE_A10G
    )


def test_a_longer_scaledown_window_costs_more_and_starts_cold_less() -> None:
    short, long = Policy(scaledown_s=10), Policy(scaledown_s=600)
    traffic = Traffic(requests_per_day=1_000)

    assert estimate(traffic, long).monthly_usd > estimate(traffic, short).monthly_usd
    assert estimate(traffic, long).cold_request_share < estimate(traffic, short).cold_request_share


def test_bursts_share_one_cold_start_and_one_window() -> None:
    single, bursty = Traffic(300), Traffic(300, burst_size=3)

    assert (
        estimate(bursty, Policy()).cold_starts_per_day
        < estimate(single, Policy()).cold_starts_per_day
    )
    assert estimate(bursty, Policy()).monthly_usd < estimate(single, Policy()).monthly_usd


def test_load_beyond_one_gpu_adds_containers() -> None:
    heavy = Traffic(requests_per_day=10_000_000)  # 116 requests/s at 24 ms: 2.8 GPUs busy

    e = estimate(heavy, Policy())

    assert e.containers_at_peak == math.ceil(10_000_000 * 0.024 / DAY_S / 0.7) == 4
    assert e.billed_s_per_day == pytest.approx(4 * DAY_S, rel=1e-3)


def test_no_traffic_costs_nothing_without_a_warm_pool() -> None:
    e = estimate(Traffic(0), Policy())

    assert (e.billed_s_per_day, e.monthly_usd, e.usd_per_request) == (0, 0, math.inf)


def test_the_command_prints_the_four_volumes(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--latency-ms", "10", "--min-containers", "0"])

    lines = capsys.readouterr().out.splitlines()
    assert "10 ms/request" in lines[0] and "$1.10/h" in lines[0]
    assert [line.split()[0] for line in lines[2:]] == ["10", "100", "1,000", "100,000"]
