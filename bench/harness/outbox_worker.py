"""A process that only delivers notifications, as `helpdesk serve`'s worker does (for crash tests).

``python -m bench.harness.outbox_worker CONFIG [--lease SECONDS]``: builds the
services and the Slack adapter from CONFIG (which registers the Slack sender) and
runs ``bot.notify.deliver_pending`` every 0.2 s until killed. The lease is short
so a test need not wait two minutes for a killed worker's rows.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("--lease", type=float, default=120.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    from bot.channels.slack.adapter import build_slack_adapter
    from bot.config import load_settings
    from bot.notify import deliver_pending
    from bot.services import Services

    services = Services(load_settings(args.config))
    build_slack_adapter(services)
    print("worker ready", flush=True)
    while True:
        try:
            deliver_pending(services, lease_seconds=args.lease)
        except Exception as exc:  # noqa: BLE001 - like the serve worker: log and go on
            logging.getLogger(__name__).warning("round failed: %s", type(exc).__name__)
        time.sleep(0.2)


if __name__ == "__main__":
    main()
