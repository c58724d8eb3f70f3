"""`/healthz` and `/readyz` for load balancers, orchestrators and the operator's own checks.

- `/healthz`: the process answers. Nothing else is touched, so a slow database never gets a live process killed.
- `/readyz`: this process can serve: the database answers, every Redis it uses (broker, cache) answers, and no
  migration is waiting. 200 when all hold, 503 otherwise; the body names each check and what failed.

Both are answered by the first middleware: no host check (probes come by IP address), no HTTPS redirect (probes
come over plain HTTP from inside), no session, no log line per probe.
"""

import re
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse

PROBE_TIMEOUT_SECONDS = 2.0
_migrations_seen_applied = False  # once applied, they stay applied for the life of this process


def check_database() -> str:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def check_migrations() -> str:
    global _migrations_seen_applied
    if not _migrations_seen_applied:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            pending = ", ".join(f"{migration.app_label}.{migration.name}" for migration, _backwards in plan[:5])
            raise NotReady(f"{len(plan)} unapplied ({pending})")
        _migrations_seen_applied = True
    return "ok"


def redis_urls() -> list[str]:
    """The Redis servers this process depends on: the Celery broker and a Redis cache, each once."""
    candidates = [settings.CELERY_BROKER_URL]
    for cache in settings.CACHES.values():
        if "redis" in cache["BACKEND"].lower():
            # A primary and its replicas: a list, or one string split on , and ; (as Django's RedisCache does).
            location = cache.get("LOCATION", "")
            candidates += re.split("[;,]", location) if isinstance(location, str) else list(location)
    urls: list[str] = []
    for url in candidates:
        if isinstance(url, str) and urlsplit(url).scheme in ("redis", "rediss") and url not in urls:
            urls.append(url)
    return urls


def check_redis() -> str:
    urls = redis_urls()
    if not urls:
        return "not used"
    for url in urls:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=PROBE_TIMEOUT_SECONDS, socket_timeout=PROBE_TIMEOUT_SECONDS
        )
        try:
            client.ping()
        finally:
            client.close()
    return "ok"


class NotReady(Exception):
    """A readiness check failed for a reason worth showing as is."""


CHECKS = {"database": check_database, "migrations": check_migrations, "redis": check_redis}


def readiness() -> tuple[bool, dict[str, str]]:
    """Run every check; the outcome of each (an error is named by its class, never with its connection details)."""
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except NotReady as error:
            results[name] = f"failed: {error}"
        except Exception as error:  # a probe reports; it must not turn into a 500
            results[name] = f"failed: {type(error).__name__}"
    return all(not value.startswith("failed") for value in results.values()), results


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info.rstrip("/")
        if path == "/healthz":
            return _no_store(JsonResponse({"status": "ok"}))
        if path == "/readyz":
            ready, checks = readiness()
            return _no_store(
                JsonResponse(
                    {"status": "ready" if ready else "not ready", "checks": checks}, status=200 if ready else 503
                )
            )
        return self.get_response(request)


def _no_store(response):
    response["Cache-Control"] = "no-store"
    return response
