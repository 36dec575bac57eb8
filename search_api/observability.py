"""Request ids, structured JSON logs and Prometheus metrics, in one pure-ASGI middleware."""

from __future__ import annotations

import contextvars
import json
import logging
import time
import uuid
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from search_api.errors import internal_error

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
access_log = logging.getLogger("podsearch.access")


class Metrics:
    """One registry per app, so two apps in one process (tests) never share counters."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "podsearch_http_requests", "HTTP requests", ["route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "podsearch_http_request_seconds",
            "HTTP request latency",
            ["route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.stage = Histogram(
            "podsearch_search_stage_seconds",
            "Time per search stage",
            ["stage"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=self.registry,
        )
        self.cache = Counter(
            "podsearch_query_embedding_cache",
            "Query embedding cache",
            ["result"],
            registry=self.registry,
        )
        self.cache_hit_ratio = Gauge(
            "podsearch_query_embedding_cache_hit_ratio", "Hits / lookups", registry=self.registry
        )
        self.degraded = Counter(
            "podsearch_degraded_searches",
            "Searches answered by keyword only",
            ["reason"],
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "podsearch_rate_limited", "Requests refused with 429", registry=self.registry
        )
        self.answers = Counter(
            "podsearch_answers", "/answer streams by outcome", ["outcome"], registry=self.registry
        )
        self.citations_dropped = Counter(
            "podsearch_answer_citations_dropped",
            "Citations of moments that were not retrieved, removed from answers",
            registry=self.registry,
        )


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request id of the request being served."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "request_id": request_id.get(),
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per embedder call is noise
    logging.getLogger("uvicorn.access").disabled = True  # replaced by podsearch.access


class ObservabilityMiddleware:
    """Gives every request an id (X-Request-ID, echoed back), times it, counts it, logs it."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        rid = headers.get(b"x-request-id", b"").decode("latin-1")[:64] or uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status, status_sent = 500, False

        async def send_with_id(message: Message) -> None:
            nonlocal status, status_sent
            if message["type"] == "http.response.start":
                status, status_sent = message["status"], True
                message.setdefault("headers", []).append((b"x-request-id", rid.encode("latin-1")))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if status_sent:  # too late for an answer: let the server close the connection
                raise
            await internal_error(exc)(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(route, str(status)).inc()
            self.metrics.latency.labels(route).observe(elapsed)
            access_log.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={"fields": {"status": status, "route": route, "ms": round(elapsed * 1e3, 2)}},
            )
            request_id.reset(token)
