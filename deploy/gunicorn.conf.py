"""Gunicorn for the tracker (`deploy/tracker web`). Every value can be changed from the environment.

Sized by CPU count: 2 × cores + 1 synchronous workers, the usual figure for a Django app waiting on its database;
slow clients are the reverse proxy's job (it buffers requests and responses), so no worker waits on a slow phone.
"""

import multiprocessing
import os

from tracker.logs import FORMATTERS


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = _int("GUNICORN_WORKERS", 0) or multiprocessing.cpu_count() * 2 + 1
worker_class = "sync"
# A request may take this long (the ledger export of a whole year is the slowest page); then the worker is replaced.
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycle workers now and then so a slow leak never grows; the jitter keeps them from restarting all at once.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 200)

# Request limits, matched by the proxy (deploy/nginx.conf: large_client_header_buffers 4 8k): the longest API
# query (every filter at once) is well under 2 KB; bodies are limited by API_MAX_BODY_BYTES in Django and
# client_max_body_size in the proxy.
limit_request_line = _int("GUNICORN_LIMIT_REQUEST_LINE", 8190)
limit_request_fields = _int("GUNICORN_LIMIT_REQUEST_FIELDS", 100)
limit_request_field_size = _int("GUNICORN_LIMIT_REQUEST_FIELD_SIZE", 8190)

# Only the proxy's address may say the request came over HTTPS (Django reads X-Forwarded-Proto itself, see
# DJANGO_TRUST_X_FORWARDED_PROTO; this is gunicorn's own view of the scheme).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")

# Gunicorn 27's control socket would live in the service user's home; nothing here uses it.
control_socket_disable = True

# Logs: Django writes one JSON line per request (tracker/logs.py), so gunicorn's access log is off; its own messages
# (start, worker timeouts) go to stdout in the same format.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "INFO").lower()
_format = os.environ.get("LOG_FORMAT", "json")
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": FORMATTERS,
    "handlers": {
        "stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": _format},
    },
    "loggers": {
        "gunicorn.error": {"handlers": ["stdout"], "level": loglevel.upper(), "propagate": False},
        "gunicorn.access": {"handlers": [], "propagate": False},
    },
    "root": {"handlers": ["stdout"], "level": loglevel.upper()},
}
