"""A local Socket Mode WebSocket server: hello → envelopes → acks (Slack's envelope protocol).

``apps.connections.open`` on the fake Web API returns this server's ``ws://`` URL.
Tests ``push(envelope)`` and ``wait_ack(envelope_id)``; every ack must name a
delivered envelope_id, and a payload is only allowed when the envelope accepts one.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve


class FakeSocketMode:
    def __init__(self) -> None:
        self.outbox: queue.Queue[dict[str, Any]] = queue.Queue()
        self.sent: dict[str, dict[str, Any]] = {}
        self.acks: dict[str, dict[str, Any]] = {}
        self.violations: list[str] = []
        self.connections = 0
        self._cond = threading.Condition()
        self.server = serve(self._serve, "127.0.0.1", 0)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True, name="fake-socket")

    @property
    def url(self) -> str:
        host, port = self.server.socket.getsockname()[:2]
        return f"ws://{host}:{port}/link/?ticket=test-ticket"

    def start(self) -> FakeSocketMode:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()

    def push(self, envelope: dict[str, Any]) -> None:
        self.outbox.put(envelope)

    def wait_connected(self, timeout: float = 10) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self.connections > 0, timeout=timeout)

    def wait_ack(self, envelope_id: str, timeout: float = 10) -> dict[str, Any] | None:
        with self._cond:
            self._cond.wait_for(lambda: envelope_id in self.acks, timeout=timeout)
            return self.acks.get(envelope_id)

    def _serve(self, ws: ServerConnection) -> None:
        ws.send(json.dumps({"type": "hello", "num_connections": 1,
                            "debug_info": {"host": "fake-socket", "approximate_connection_time": 3600},
                            "connection_info": {"app_id": "A111"}}))
        with self._cond:
            self.connections += 1
            self._cond.notify_all()
        try:
            while True:
                try:
                    envelope = self.outbox.get_nowait()
                except queue.Empty:
                    envelope = None
                if envelope is not None:
                    self.sent[envelope["envelope_id"]] = envelope
                    ws.send(json.dumps(envelope))
                try:
                    raw = ws.recv(timeout=0.02)
                except TimeoutError:
                    continue
                self._ack(raw)
        except ConnectionClosed:
            return

    def _ack(self, raw: str | bytes) -> None:
        try:
            ack = json.loads(raw)
        except ValueError:
            self.violations.append(f"non-JSON frame from the client: {raw[:100]!r}")
            return
        eid = ack.get("envelope_id") if isinstance(ack, dict) else None
        envelope = self.sent.get(eid or "")
        if envelope is None:
            self.violations.append(f"ack for unknown envelope {eid!r}")
            return
        if ack.get("payload") and not envelope.get("accepts_response_payload"):
            self.violations.append(f"ack payload for envelope {eid} that accepts none")
        with self._cond:
            self.acks[eid] = {"ack": ack, "at": time.monotonic()}  # type: ignore[index]
            self._cond.notify_all()
