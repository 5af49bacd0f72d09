"""A worker's own ``/metrics``: prometheus_client's HTTP server in a thread of the worker process.

Chosen over multiprocess mode (pushing into the API's registry through shared files): workers
run on other machines than the API, a worker's series (its slots, its stage runs) belong to
that worker, and Prometheus (or a PodMonitor) scrapes each pod. It binds to
``RECAP_OBSERVABILITY__WORKER_METRICS_HOST`` (loopback by default; ``0.0.0.0`` in a pod, where a
NetworkPolicy admits only Prometheus) on ``..._WORKER_METRICS_PORT`` (0 = off).

    port = start_metrics_server(settings)
"""

from __future__ import annotations

import logging
from typing import Any

from prometheus_client import start_http_server

from app.config import Settings

log = logging.getLogger(__name__)


def start_metrics_server(settings: Settings, *, port: int | None = None) -> Any:
    """Serve this process's registry on ``port`` (default: the setting); None when the port is 0 (off)."""
    port = settings.observability.worker_metrics_port if port is None else port
    if port == 0:
        return None
    server, _thread = start_http_server(port, addr=settings.observability.worker_metrics_host)
    log.info("worker metrics on http://%s:%d/metrics", settings.observability.worker_metrics_host, port)
    return server
