"""Prometheus metrics: the instruments every process records into and the
exposition server on its own port (never on the public API). What is read
from Postgres at scrape time (the pipeline's state) is a collector of the
projection runtime (:mod:`infra.projection.state_metrics`), handed in.

Several processes (API workers, relay, projectors, processors) on one host
write into one directory (prometheus-client's multiprocess mode), and the
process that holds the metrics port serves them all.

May import: ``prometheus_client`` and the standard library only; every other
room may import it (the event store times appends, the projector host sets
consumer lag, the HTTP edge times requests).
"""
