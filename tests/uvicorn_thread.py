"""A real uvicorn server for an ASGI app on 127.0.0.1, in a thread of the test process."""

from __future__ import annotations

import threading
import time
from typing import Any


class ThreadedUvicorn:
    """``start()`` returns once the server listens on ``port``; ``stop()`` shuts it down."""

    def __init__(self, app: Any, port: int, *, start_timeout: float = 20) -> None:
        import uvicorn

        self.port = port
        self.start_timeout = start_timeout
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                                    access_log=False, lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + self.start_timeout
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
