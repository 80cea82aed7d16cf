"""Prometheus metrics: what `/metrics` exposes (foundation: imports only prometheus_client and the stdlib).

Producers call the small functions here; nothing in this module knows the engine,
the database or a channel. Values that live in the database (outbox depth and
age) or in another component (the encoder's batch counts) are read *at scrape
time* through callbacks registered with :func:`register_gauge_source` and
:func:`register_encoder_stats`, so a scrape always shows the current state and
two replicas report the same outbox.

Label values are bounded: an intent label is cut to 64 characters and, past
``MAX_INTENTS`` distinct values, counted as ``other`` (a misbehaving model or a
remote NLU server cannot blow up the series count).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

__all__ = [
    "REGISTRY", "GaugeSample", "count_integration_error", "observe_turn", "register_encoder_stats",
    "register_gauge_source", "render",
]

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)
MAX_INTENTS = 100
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0, 30.0)
CONFIDENCE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
# IntegrationError subclasses by name → the system label (others: "other")
SYSTEMS = {"SlackError": "slack", "TicketingError": "jira", "DirectoryError": "ldap", "NluBackendError": "nlu"}

TURN_SECONDS = Histogram("helpdesk_turn_seconds", "Time to answer one turn, by channel.",
                         ["channel"], buckets=LATENCY_BUCKETS, registry=REGISTRY)
TURNS = Counter("helpdesk_turns", "Turns answered, by channel and outcome.", ["channel", "outcome"],
                registry=REGISTRY)
INTENTS = Counter("helpdesk_intents", "Turns by the intent understood (none: no intent).", ["intent"],
                  registry=REGISTRY)
KB_CONFIDENCE = Histogram("helpdesk_kb_confidence", "Score of the best knowledge-base article, per answered search.",
                          buckets=CONFIDENCE_BUCKETS, registry=REGISTRY)
INTEGRATION_ERRORS = Counter("helpdesk_integration_errors", "Outside-system failures, by system.", ["system"],
                             registry=REGISTRY)

_intents_seen: set[str] = set()
_intents_lock = threading.Lock()


def _label(value: str | None, default: str) -> str:
    text = (value or default).strip() or default
    return text[:64]


def _intent_label(intent: str | None) -> str:
    label = _label(intent, "none")
    with _intents_lock:
        if label in _intents_seen:
            return label
        if len(_intents_seen) >= MAX_INTENTS:
            return "other"
        _intents_seen.add(label)
        return label


def observe_turn(channel: str, outcome: str, intent: str | None, seconds: float,
                 kb_confidence: float | None = None) -> None:
    """Record one finished turn (called by the engine; never raises)."""
    try:
        channel_label = _label(channel, "unknown")
        TURN_SECONDS.labels(channel_label).observe(max(0.0, float(seconds)))
        TURNS.labels(channel_label, _label(outcome, "unknown")).inc()
        INTENTS.labels(_intent_label(intent)).inc()
        if kb_confidence is not None and kb_confidence == kb_confidence:  # not NaN
            KB_CONFIDENCE.observe(min(1.0, max(0.0, float(kb_confidence))))
    except Exception:  # noqa: BLE001 - metrics never break a turn
        log.debug("metrics: turn not recorded", exc_info=True)


def count_integration_error(error_class: type) -> None:
    """Count one outside-system failure by the class (or its nearest known base) that reported it."""
    system = "other"
    for cls in getattr(error_class, "__mro__", ()):
        if cls.__name__ in SYSTEMS:
            system = SYSTEMS[cls.__name__]
            break
    INTEGRATION_ERRORS.labels(system).inc()


GaugeSample = tuple[Mapping[str, str], float]
GaugeSource = Callable[[], Iterable[GaugeSample]]


class _ScrapeTimeCollector(Collector):
    """Gauges and counters whose values are read from callbacks at every scrape."""

    def __init__(self) -> None:
        self.gauges: dict[str, tuple[str, tuple[str, ...], GaugeSource]] = {}
        self.encoder_stats: Callable[[], Mapping[str, int]] | None = None
        self.lock = threading.Lock()

    def collect(self) -> Iterable[Any]:
        with self.lock:
            gauges = dict(self.gauges)
            encoder_stats = self.encoder_stats
        for name, (doc, labels, source) in sorted(gauges.items()):
            family = GaugeMetricFamily(name, doc, labels=list(labels))
            try:
                for values, number in source():
                    family.add_metric([str(values.get(k, "")) for k in labels], float(number))
            except Exception as exc:  # noqa: BLE001 - e.g. the database is down: the scrape still answers
                log.warning("metrics: %s not available (%s)", name, type(exc).__name__)
                continue
            yield family
        yield from self._encoder(encoder_stats)

    @staticmethod
    def _encoder(stats: Callable[[], Mapping[str, int]] | None) -> Iterable[Any]:
        if stats is None:
            return
        try:
            values = dict(stats())
        except Exception as exc:  # noqa: BLE001
            log.warning("metrics: encoder stats not available (%s)", type(exc).__name__)
            return
        calls, batches = int(values.get("calls", 0)), int(values.get("batches", 0))
        yield CounterMetricFamily("helpdesk_encoder_requests", "Sentences the batching encoder encoded.",
                                  value=calls)
        yield CounterMetricFamily("helpdesk_encoder_batches", "Model passes those sentences took.",
                                  value=batches)
        mean = GaugeMetricFamily("helpdesk_encoder_batch_size_mean",
                                 "Mean sentences per model pass since start (requests / batches).")
        mean.add_metric([], calls / batches if batches else 0.0)
        yield mean


_SCRAPE = _ScrapeTimeCollector()
REGISTRY.register(_SCRAPE)


def register_gauge_source(name: str, documentation: str, labels: Iterable[str], source: GaugeSource) -> None:
    """Expose gauge ``name`` whose samples ``source()`` returns at each scrape (re-registering replaces it)."""
    with _SCRAPE.lock:
        _SCRAPE.gauges[name] = (documentation, tuple(labels), source)


def register_encoder_stats(stats: Callable[[], Mapping[str, int]] | None) -> None:
    """Read the encoder's ``{"calls": n, "batches": m}`` at each scrape (None: stop exposing them)."""
    with _SCRAPE.lock:
        _SCRAPE.encoder_stats = stats


def render() -> tuple[bytes, str]:
    """The exposition text of every metric and its content type."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
