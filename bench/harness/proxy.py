"""A TCP proxy on 127.0.0.1 we control: the database "goes away" when it is cut, and comes back.

Stopping the shared PostgreSQL is not an option on this machine; the bot is
pointed at this proxy instead, and :meth:`TcpProxy.cut` closes every open
connection and refuses new ones until :meth:`TcpProxy.restore`. :meth:`TcpProxy.hold`
keeps the connections up but withholds every answer until :meth:`TcpProxy.release`: a
request reaches the other side and is acted on, its answer never arrives (a lost answer).
"""

from __future__ import annotations

import contextlib
import socket
import threading


class TcpProxy:
    """Forwards 127.0.0.1:<port> to ``target``; ``cut()`` drops all connections and refuses new ones."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(256)
        self.port = int(self._listener.getsockname()[1])
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._up = threading.Event()
        self._up.set()
        self._flowing = threading.Event()  # answers (target → client) pass while set
        self._flowing.set()
        self._closed = False
        threading.Thread(target=self._accept, name="tcp-proxy", daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._up.is_set():
                client.close()  # the database is "down": connection refused/reset
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            for a, b, answers in ((client, upstream, False), (upstream, client, True)):
                threading.Thread(target=self._pipe, args=(a, b, answers), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, answers: bool) -> None:
        try:
            while chunk := source.recv(65536):
                if answers:
                    self._flowing.wait()
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                self._drop(sock)

    def _drop(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.discard(sock)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            sock.close()

    def cut(self) -> None:
        """The database goes away: every open connection is reset, new ones are refused."""
        self._up.clear()
        with self._lock:
            sockets = list(self._open)
        for sock in sockets:
            self._drop(sock)

    def restore(self) -> None:
        """The database is back."""
        self._up.set()

    def hold(self) -> None:
        """Requests still go through; their answers are withheld until :meth:`release`."""
        self._flowing.clear()

    def release(self) -> None:
        """Withheld answers (to clients still connected) go through, and new ones flow again."""
        self._flowing.set()

    def close(self) -> None:
        """Stop listening and drop everything."""
        self._closed = True
        self._flowing.set()
        self.cut()
        with contextlib.suppress(OSError):
            self._listener.close()
