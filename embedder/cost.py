"""What the Modal query embedder costs per month and per request, idle time included.

`python -m embedder.cost` prints the table for 10, 100, 1000 and 100k requests per day.

A serverless GPU is billed while its container is alive, not while it computes. With
`min_containers=0`, every burst of requests keeps a container alive for the scale-down window
after it, and a burst that finds no container alive pays a cold start (billed too). Bursts
arrive at random (Poisson) during the active hours, so a container is alive a share
`1 - exp(-rate * hold)` of the time, where `hold` is the window plus the burst's own GPU time;
`exp(-rate * hold)` is also the share of bursts that start cold. With `min_containers=N`, N
GPUs are billed all day whatever the traffic, and no request is cold until they are all busy.
Extra containers join when the GPU time asked for exceeds `max_utilisation` of those running.
The system this replaces priced every request at $0.012 whatever the volume: at 10 requests a
day the idle window is nearly the whole bill, at 100k a day the GPU is nearly always busy anyway.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import dataclass

# Modal's A10G, $1.10 an hour (modal.com/pricing when this was written): check, then pass yours.
A10G_USD_PER_S = 0.000306
DAY_S = 86_400.0
DAYS_PER_MONTH = 365.25 / 12
VOLUMES = (10, 100, 1_000, 100_000)


@dataclass(frozen=True)
class Traffic:
    requests_per_day: float
    burst_size: float = 1.0  # requests arriving together (one listener's few searches)
    active_hours: float = 24.0  # the traffic falls uniformly in these hours of each day


@dataclass(frozen=True)
class Policy:
    gpu_usd_per_s: float = A10G_USD_PER_S
    latency_s: float = 0.024  # warm GPU seconds per request (old system: 22-24 ms on an A10G)
    cold_start_s: float = 5.0  # billed seconds to bring up a container (snapshot restore)
    scaledown_s: float = 120.0  # Modal's scaledown_window
    min_containers: int = 0
    max_utilisation: float = 0.7


@dataclass(frozen=True)
class Estimate:
    requests_per_day: float
    billed_s_per_day: float
    cold_starts_per_day: float
    cold_request_share: float
    containers_at_peak: int
    monthly_usd: float
    usd_per_request: float


def estimate(traffic: Traffic, policy: Policy) -> Estimate:
    """Expected billed GPU time per day, and what it costs."""
    requests = traffic.requests_per_day
    active_s = traffic.active_hours * 3600
    bursts = requests / traffic.burst_size
    busy_share = requests * policy.latency_s / active_s
    containers = max(1, math.ceil(busy_share / policy.max_utilisation))
    warm = policy.min_containers
    if warm == 0 and requests > 0:
        hold = policy.scaledown_s + traffic.burst_size * policy.latency_s
        cold_share = math.exp(-bursts / active_s * hold)
        cold_starts = bursts * cold_share
        billed = active_s * (1 - cold_share) + cold_starts * policy.cold_start_s
        billed += (containers - 1) * active_s
    else:
        cold_share, cold_starts = 0.0, 0.0
        billed = warm * DAY_S + max(0, containers - warm) * active_s * (requests > 0)
    monthly = billed * DAYS_PER_MONTH * policy.gpu_usd_per_s
    return Estimate(
        requests_per_day=requests,
        billed_s_per_day=billed,
        cold_starts_per_day=cold_starts,
        cold_request_share=cold_starts / requests if requests else 0.0,
        containers_at_peak=containers if requests else warm,
        monthly_usd=monthly,
        usd_per_request=monthly / (requests * DAYS_PER_MONTH) if requests else math.inf,
    )


def table(volumes: Sequence[float], traffic: Traffic, policy: Policy) -> str:
    rows = [
        f"GPU ${policy.gpu_usd_per_s:.6f}/s (${policy.gpu_usd_per_s * 3600:.2f}/h), "
        f"{policy.latency_s * 1000:.0f} ms/request, cold start {policy.cold_start_s:g} s, "
        f"scaledown {policy.scaledown_s:g} s, min_containers {policy.min_containers}, "
        f"bursts of {traffic.burst_size:g} over {traffic.active_hours:g} h/day",
        f"{'requests/day':>12} {'GPU h/day':>9} {'cold/day':>9} {'cold %':>7} "
        f"{'GPUs':>4} {'$/month':>10} {'$/request':>10}",
    ]
    for volume in volumes:
        e = estimate(
            Traffic(volume, traffic.burst_size, traffic.active_hours),
            policy,
        )
        rows.append(
            f"{volume:>12,.0f} {e.billed_s_per_day / 3600:>9.2f} {e.cold_starts_per_day:>9.1f} "
            f"{e.cold_request_share * 100:>6.1f}% {e.containers_at_peak:>4} "
            f"{e.monthly_usd:>10,.2f} {e.usd_per_request:>10.5f}"
        )
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m embedder.cost", description=__doc__)
    default, default_traffic = Policy(), Traffic(0)
    parser.add_argument("--gpu-usd-per-s", type=float, default=default.gpu_usd_per_s)
    parser.add_argument("--latency-ms", type=float, default=default.latency_s * 1000)
    parser.add_argument("--cold-start-s", type=float, default=default.cold_start_s)
    parser.add_argument("--scaledown-s", type=float, default=default.scaledown_s)
    parser.add_argument("--min-containers", type=int, default=default.min_containers)
    parser.add_argument("--burst-size", type=float, default=default_traffic.burst_size)
    parser.add_argument("--active-hours", type=float, default=default_traffic.active_hours)
    parser.add_argument("--volumes", type=float, nargs="+", default=list(VOLUMES))
    args = parser.parse_args(argv)
    policy = Policy(
        gpu_usd_per_s=args.gpu_usd_per_s,
        latency_s=args.latency_ms / 1000,
        cold_start_s=args.cold_start_s,
        scaledown_s=args.scaledown_s,
        min_containers=args.min_containers,
    )
    print(table(args.volumes, Traffic(0, args.burst_size, args.active_hours), policy))


if __name__ == "__main__":
    main()
