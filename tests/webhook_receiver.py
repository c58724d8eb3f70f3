"""A real webhook receiver on 127.0.0.1 for the tests (services and a real Celery worker alike): it records each
request, answers with the statuses it is told to, and checks a delivery's signature as an integrator would."""

import hashlib
import hmac
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from requests.structures import CaseInsensitiveDict


@dataclass
class Received:
    path: str
    headers: CaseInsensitiveDict
    body: bytes
    at: float = field(default_factory=time.monotonic)

    @property
    def payload(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A real HTTP endpoint: records each POST, then answers with the next scripted (status, delay), or 200."""

    received: list[Received] = field(default_factory=list)
    script: deque = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.received.append(Received(self.path, CaseInsensitiveDict(self.headers.items()), body))
                    status, delay = receiver.script.popleft() if receiver.script else (200, 0)
                time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:  # the sender gave up waiting (a timeout under test)
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hooks"

    def answer(self, *statuses: int, delay: float = 0) -> None:
        """Answer the next requests with these statuses (each after `delay` seconds); 200 after that."""
        with self.lock:
            self.script.extend((status, delay) for status in statuses)

    def requests(self, path: str | None = None) -> list[Received]:
        with self.lock:
            return [r for r in self.received if path is None or r.path == "/hooks" + path]


def signature_verifies(secret: str, request: Received) -> bool:
    """The recipe docs/webhooks.md gives receivers: HMAC-SHA256(secret, timestamp + "." + raw body)."""
    timestamp = request.headers["X-Webhook-Timestamp"]
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256)
    return hmac.compare_digest("sha256=" + mac.hexdigest(), request.headers["X-Webhook-Signature"])
