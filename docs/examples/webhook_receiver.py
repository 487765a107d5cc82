"""A webhook receiver for AssureHub, verifying every delivery with the
Standard Webhooks library (``pip install standardwebhooks``).

    python docs/examples/webhook_receiver.py --port 8900 --secret whsec_...

Each delivery is a POST whose body is one CloudEvent in structured JSON
(``application/cloudevents+json``), signed in the ``webhook-id``,
``webhook-timestamp`` and ``webhook-signature`` headers. The receiver
answers ``204`` once it has kept the event, ``400`` when the signature does
not verify (AssureHub retries, so a bad signature is never silently
accepted). Delivery is at least once: deduplicate by ``webhook-id`` (the
CloudEvent's ``id``). One aggregate's events (``subject``) arrive in
``position`` order.

Each verified event is printed as one JSON line (or appended to ``--out``).
``--secret`` may be given twice while a secret is being rotated.
``--fail-while PATH`` answers ``503`` while that file exists, so you can
watch AssureHub retry with backoff; ``--delay-while PATH`` holds each
answer for a few seconds while that file exists.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def make_handler(
    hooks: list[Webhook],
    out: Path | None,
    fail_while: Path | None,
    delay_while: Path | None,
) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k: v for k, v in self.headers.items()}
            event = None
            for hook in hooks:
                try:
                    event = hook.verify(body, headers)
                    break
                except WebhookVerificationError:
                    continue
            if event is None:
                self.send_response(400)
                self.end_headers()
                return
            if delay_while is not None and delay_while.exists():
                print(f"delaying {event['id']}", flush=True)
                time.sleep(5)
            if fail_while is not None and fail_while.exists():
                print(f"failing {event['id']}", flush=True)
                self.send_response(503)
                self.end_headers()
                return
            line = json.dumps(
                {
                    "webhook_id": headers.get("webhook-id"),
                    "id": event["id"],
                    "type": event["type"],
                    "subject": event["subject"],
                    "position": event["position"],
                    "aggregateversion": event["aggregateversion"],
                }
            )
            with lock:
                if out is None:
                    print(line, flush=True)
                else:
                    with out.open("a") as file:
                        file.write(line + "\n")
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep stdout for the events

    return Handler


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--secret", action="append", required=True)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--fail-while", type=Path)
    parser.add_argument("--delay-while", type=Path)
    args = parser.parse_args()
    hooks = [Webhook(secret) for secret in args.secret]
    handler = make_handler(hooks, args.out, args.fail_while, args.delay_while)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    print(f"listening on http://127.0.0.1:{server.server_port}/", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
