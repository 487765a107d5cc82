"""Follow AssureHub's events through the HTTP feed, resuming where it stopped.

    ASSUREHUB_TOKEN=ah_… python docs/examples/feed_consumer.py \
        --base-url https://assurehub.example --position-file position.txt

Needs an API token with ``events:read`` (and ``events:read_personal`` to see
personal fields). Asks ``GET /events?after=<saved position>&wait=20`` in a
loop, prints each event (a CloudEvent) as a JSON line, and saves the
``Next-After`` position after handling each page, so a restart neither skips
nor repeats an event. Only the standard library. ``--until-idle`` stops at
the first empty page (for scripts and tests).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path


def read_page(base_url: str, token: str, after: int, wait: int) -> tuple[list, int]:
    query = urllib.parse.urlencode({"after": after, "limit": 500, "wait": wait})
    if not base_url.startswith(("https://", "http://")):
        raise ValueError(f"not an http(s) URL: {base_url}")
    request = urllib.request.Request(  # noqa: S310 - checked above
        f"{base_url}/events?{query}",
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/cloudevents-batch+json",
        },
    )
    with urllib.request.urlopen(request, timeout=wait + 30) as answer:  # noqa: S310
        return json.load(answer), int(answer.headers["Next-After"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--position-file", type=Path, default=Path("position.txt"))
    parser.add_argument("--wait", type=int, default=20)
    parser.add_argument("--until-idle", action="store_true")
    args = parser.parse_args()
    token = os.environ["ASSUREHUB_TOKEN"]

    saved = args.position_file
    after = int(saved.read_text()) if saved.exists() else 0
    while True:
        try:
            events, next_after = read_page(args.base_url, token, after, args.wait)
        except (urllib.error.URLError, TimeoutError) as e:
            if getattr(e, "code", 0) in (400, 401, 403):
                raise  # not worth retrying
            print(f"feed unavailable ({e}); retrying", file=sys.stderr)
            time.sleep(5)
            continue
        for event in events:
            print(json.dumps(event, sort_keys=True), flush=True)
        after = next_after
        saved.write_text(str(after))  # after handling: resume here
        if not events and args.until_idle:
            return 0


if __name__ == "__main__":
    sys.exit(main())
