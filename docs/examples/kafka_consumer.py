"""Follow AssureHub's events on Kafka with a stock kafka-python consumer group.

    python docs/examples/kafka_consumer.py --bootstrap 127.0.0.1:9092 \
        --topic assurehub.events --group my-erp-sync

Prints each event once as a JSON line (the CloudEvents attributes from the
``ce_*`` headers and the body as ``data``). Delivery is at least once, so it
deduplicates by ``ce_id``, remembering the ids it handled in ``--seen`` (a
real consumer keeps them with its own data, in the same transaction). It
commits offsets only after handling a batch. ``--idle-seconds`` stops it
when nothing arrives for that long (0: run until interrupted).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from kafka import KafkaConsumer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    parser.add_argument("--topic", default="assurehub.events")
    parser.add_argument("--group", required=True)
    parser.add_argument("--seen", type=Path, default=Path("seen-event-ids.txt"))
    parser.add_argument("--idle-seconds", type=float, default=0)
    args = parser.parse_args()

    seen = set(args.seen.read_text().split()) if args.seen.exists() else set()
    consumer = KafkaConsumer(
        args.topic,
        bootstrap_servers=args.bootstrap.split(","),
        group_id=args.group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        # One fetch of a backlog can be larger than the default 1 MB frame.
        fetch_max_bytes=50 * 1024 * 1024,
        receive_message_max_bytes=64 * 1024 * 1024,
    )
    last_message = time.monotonic()
    try:
        while True:
            batch = consumer.poll(timeout_ms=500)
            records = [r for rs in batch.values() for r in rs]
            if not records:
                idle = time.monotonic() - last_message
                if args.idle_seconds and idle >= args.idle_seconds:
                    return 0
                continue
            last_message = time.monotonic()
            with args.seen.open("a") as remembered:
                for record in records:
                    attributes = {
                        key.removeprefix("ce_"): value.decode()
                        for key, value in record.headers
                        if key.startswith("ce_")
                    }
                    if attributes["id"] in seen:
                        continue  # a redelivery: handled already
                    event = attributes | {"data": json.loads(record.value)}
                    print(json.dumps(event, sort_keys=True), flush=True)
                    seen.add(attributes["id"])
                    remembered.write(attributes["id"] + "\n")
            consumer.commit()  # only after the batch was handled
    finally:
        consumer.close()


if __name__ == "__main__":
    sys.exit(main())
