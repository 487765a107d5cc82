"""The previous projector process, for a same-run baseline: one Kafka
consumer (and one thread) per read model, each fetching and reading every
record itself. ``python -m bench.per_projection`` runs it until SIGTERM."""

from __future__ import annotations

import signal
import threading
from types import FrameType

from infra.bootstrap import bootstrap
from infra.logs import configure_logging
from infra.settings import Settings


def main() -> None:
    settings = Settings()
    configure_logging(settings)
    stop = threading.Event()

    def handle(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    container = bootstrap(settings)
    threads = [
        threading.Thread(target=runner.run, args=(stop,), name=runner.projection.name)
        for runner in container.projectors()
    ]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        stop.set()
        container.close()


if __name__ == "__main__":
    main()
