"""Structured logs: every line carries the request (or Celery task) it belongs to, the user and the case.

`RequestLogMiddleware` gives each request an id (the proxy's `X-Request-ID` when it sent a sane one, else a new
one), returns it in the response's `X-Request-ID`, and writes one line per request when it ends. `bind(case=...)`
adds the case number to the lines of the current request or task (services.cases.transitions.record_event and the case
pages call it). `ContextFilter` copies these onto every log record; `JsonFormatter` writes them as one JSON object per
line.
"""

import logging
import re
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

_context: ContextVar[dict | None] = ContextVar("log_context", default=None)
# What a proxy may hand us as a request id: short, and nothing that could forge a second log field or line.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")

access_logger = logging.getLogger("tracker.request")

# The two ways a line can look (LOG_FORMAT), for Django's LOGGING and gunicorn's own logconfig_dict alike.
FORMATTERS = {
    "json": {"()": "tracker.logs.JsonFormatter"},
    "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
}


def bind(**fields) -> None:
    """Add fields (request_id, user, case, task_id …) to the log lines of the current request or task."""
    current = _context.get()
    if current is not None:
        current.update({key: value for key, value in fields.items() if value not in (None, "")})


def start(**fields):
    """Open a fresh context (a request or a task begins); returns the token `finish` needs."""
    return _context.set({key: value for key, value in fields.items() if value not in (None, "")})


def finish(token) -> None:
    _context.reset(token)


def current() -> dict:
    return dict(_context.get() or {})


class ContextFilter(logging.Filter):
    """Copy the current context onto each record (as attributes the formatters can name)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_context.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(_JsonFormatter):
    """One JSON object per line: time (ISO 8601, UTC), level, logger, message, then the context and extras."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("fmt", ["asctime", "levelname", "name", "message"])
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"})
        kwargs.setdefault("json_ensure_ascii", False)  # Chinese stays readable in the logs
        # Django attaches the request object to its own error records; the request id already identifies it.
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "request", "server_time"])
        super().__init__(*args, **kwargs)

    def formatTime(self, record, datefmt=None):
        return datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds")


def _request_id(request) -> str:
    offered = request.headers.get("X-Request-ID", "")
    return offered if _SANE_REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex


def _username(request) -> str:
    user = getattr(request, "user", None)  # set by the session middleware, or by DRF for a token
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    return user.get_username()


def client_address(request) -> str:
    """The client's address as the sign-in lockout sees it (behind PROXY_COUNT proxies, the forwarded one)."""
    from axes.helpers import get_client_ip_address  # not at import: logging is configured before the apps load

    return get_client_ip_address(request) or ""


class RequestLogMiddleware:
    """A request id for every line logged while serving a request, and one line per request with its outcome."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = _request_id(request)
        request.request_id = request_id
        token = start(request_id=request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            bind(user=_username(request))
            response["X-Request-ID"] = request_id
            level = logging.ERROR if response.status_code >= 500 else logging.INFO
            access_logger.log(
                level,
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "remote_addr": client_address(request),
                },
            )
            return response
        finally:
            finish(token)


def connect_celery_signals() -> None:
    """Give each Celery task's log lines the task's name and id (called once the Celery app exists)."""
    from celery import signals

    tokens: dict[str, object] = {}

    @signals.task_prerun.connect(weak=False)
    def _task_started(task_id=None, task=None, **_):
        tokens[task_id] = start(task_id=task_id, task=getattr(task, "name", ""))

    @signals.task_postrun.connect(weak=False)
    def _task_finished(task_id=None, **_):
        token = tokens.pop(task_id, None)
        if token is not None:
            finish(token)
