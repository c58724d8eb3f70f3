"""`/healthz` and `/readyz` (tracker/health.py): what a load balancer or an orchestrator sees when it probes.

`/healthz` says the process answers and touches nothing; `/readyz` checks the database, the migrations and every
Redis this process uses, and answers 503 naming what failed — never a 500, never a connection detail. Both answer
probes that come by IP address over plain HTTP.
"""

import json
import socket
from types import SimpleNamespace

import pytest
import redis
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings

from tracker import health

REAL_REDIS = ("127.0.0.1", 6379)
NOBODY_LISTENS = "redis://127.0.0.1:1/0"  # port 1: refused at once
LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def redis_is_running() -> bool:
    try:
        with socket.create_connection(REAL_REDIS, timeout=0.5):
            return True
    except OSError:
        return False


class FakeRedis:
    """Stands in for a Redis that answers; records the URLs it was asked to reach."""

    pinged: list[str] = []

    def __init__(self, url):
        self.url = url

    @classmethod
    def from_url(cls, url, **kwargs):
        return cls(url)

    def ping(self):
        FakeRedis.pinged.append(self.url)
        return True

    def close(self):
        pass


@pytest.fixture
def redis_answers(monkeypatch):
    """Every Redis answers its ping, whether or not one runs here; returns the list of URLs pinged."""
    FakeRedis.pinged = []
    monkeypatch.setattr(health, "redis", SimpleNamespace(Redis=FakeRedis))  # only the probe's Redis: not Django's
    return FakeRedis.pinged


@pytest.fixture
def migrations_unchecked(monkeypatch):
    """The process has not yet seen its migrations applied (a probe before this test may have)."""
    monkeypatch.setattr(health, "_migrations_seen_applied", False)


def redis_cache(location) -> dict:
    return {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": location}}


def _readyz(client, **extra):
    response = client.get("/readyz", **extra)
    return response, json.loads(response.content)


# /healthz ---------------------------------------------------------------------------------------------------------


def test_healthz_answers_ok_without_touching_the_database_or_redis(client, monkeypatch):
    # Given no database access is allowed (no `db` fixture) and any Redis connection would blow up
    def no_redis(*args, **kwargs):
        raise AssertionError("healthz must not reach Redis")

    monkeypatch.setattr(redis.Redis, "from_url", no_redis)
    # When the load balancer probes liveness
    response = client.get("/healthz")
    # Then the process says it is alive, and the answer is never cached
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_healthz_answers_a_probe_by_ip_address_that_other_pages_refuse(client):
    # Given a probe that comes by an address not in ALLOWED_HOSTS
    # When it asks for /healthz and, for comparison, for an ordinary page
    probe = client.get("/healthz", HTTP_HOST="10.0.0.5")
    page = client.get("/portal/login/", HTTP_HOST="10.0.0.5")
    # Then the probe is answered while the page is refused by the host check
    assert probe.status_code == 200
    assert json.loads(probe.content) == {"status": "ok"}
    assert page.status_code == 400


def test_probes_are_not_redirected_to_https_while_pages_are(client, settings, db, redis_answers):
    # Given production's redirect of plain HTTP to HTTPS
    settings.SECURE_SSL_REDIRECT = True
    # When a probe and a browser come over plain HTTP
    live = client.get("/healthz")
    ready = client.get("/readyz")
    page = client.get("/portal/login/")
    # Then the probes are answered as they are, and only the page is sent to HTTPS
    assert live.status_code == 200
    assert ready.status_code == 200
    assert page.status_code == 301
    assert page["Location"] == "https://testserver/portal/login/"


def test_healthz_with_a_trailing_slash_is_the_same_probe(client):
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok"}


# /readyz: ready -------------------------------------------------------------------------------------------------


def test_readyz_is_ready_when_database_migrations_and_redis_answer(client, db, redis_answers):
    # Given the broker on Redis and a Redis cache on another server
    # (the settings are changed only around the probe: the suite's cache teardown must not reach a made-up host)
    with override_settings(
        CELERY_BROKER_URL="redis://broker.internal:6379/0", CACHES=redis_cache("redis://cache.internal:6379/1")
    ):
        # When the orchestrator probes readiness
        response, body = _readyz(client)
    # Then every check is ok, both Redis servers were pinged, and the answer is never cached
    assert response.status_code == 200
    assert body == {"status": "ready", "checks": {"database": "ok", "migrations": "ok", "redis": "ok"}}
    assert redis_answers == ["redis://broker.internal:6379/0", "redis://cache.internal:6379/1"]
    assert response["Cache-Control"] == "no-store"


def test_readyz_pings_a_redis_used_as_both_broker_and_cache_once(client, db, redis_answers):
    with override_settings(
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0", CACHES=redis_cache("redis://127.0.0.1:6379/0")
    ):
        response, _ = _readyz(client)
    assert response.status_code == 200
    assert redis_answers == ["redis://127.0.0.1:6379/0"]


@pytest.mark.skipif(not redis_is_running(), reason="no Redis at 127.0.0.1:6379 (CI starts one)")
def test_readyz_is_ready_against_a_real_redis(client, db, settings, migrations_unchecked):
    # Given the real Redis as broker, and migrations not yet seen applied by this process
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    settings.CACHES = LOCMEM
    # When probed
    response, body = _readyz(client)
    # Then the real database, the real migration table and the real Redis all answer
    assert response.status_code == 200, body
    assert body["checks"] == {"database": "ok", "migrations": "ok", "redis": "ok"}


def test_readyz_says_redis_is_not_used_without_a_redis_broker_or_cache(client, db, settings, monkeypatch):
    # Given the demo's set-up: the filesystem broker and a local-memory cache
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CACHES = LOCMEM

    def no_redis(*args, **kwargs):
        raise AssertionError("no Redis is configured: none must be reached")

    monkeypatch.setattr(redis.Redis, "from_url", no_redis)
    # When probed
    response, body = _readyz(client)
    # Then the process is ready and says Redis plays no part
    assert response.status_code == 200
    assert body["checks"]["redis"] == "not used"


# /readyz: not ready ---------------------------------------------------------------------------------------------


def test_readyz_is_503_when_the_broker_is_unreachable_and_does_not_say_where_it_is(client, db, settings):
    # Given a broker URL nobody listens on
    settings.CELERY_BROKER_URL = NOBODY_LISTENS
    settings.CACHES = LOCMEM
    # When probed
    response, body = _readyz(client)
    # Then the process is not ready, Redis is named with the kind of failure, the rest is ok
    assert response.status_code == 503
    assert body["status"] == "not ready"
    assert body["checks"] == {"database": "ok", "migrations": "ok", "redis": "failed: ConnectionError"}
    # And nothing about the connection leaks into the answer
    text = response.content.decode()
    assert "127.0.0.1" not in text and ":1" not in text and "redis://" not in text
    assert response["Cache-Control"] == "no-store"


def test_readyz_is_503_when_a_redis_cache_is_unreachable(client, db):
    # Given no Redis broker, but a Redis cache nobody answers for
    with override_settings(CELERY_BROKER_URL="filesystem://", CACHES=redis_cache(NOBODY_LISTENS)):
        # When probed
        response, body = _readyz(client)
    # Then the cache's Redis is checked and fails
    assert response.status_code == 503
    assert body["checks"]["redis"] == "failed: ConnectionError"


@pytest.mark.parametrize(
    "location",
    [["redis://127.0.0.1:6379/1", NOBODY_LISTENS], f"redis://127.0.0.1:6379/1,{NOBODY_LISTENS}"],
    ids=["list", "comma-separated"],
)
def test_readyz_checks_every_server_of_a_replicated_redis_cache(client, db, location, redis_answers):
    # Given a Redis cache with a primary and a replica (Django's RedisCache accepts a list or a delimited string)
    with override_settings(CELERY_BROKER_URL="filesystem://", CACHES=redis_cache(location)):
        # When probed
        response, _ = _readyz(client)
    # Then both servers are pinged, each on its own
    assert response.status_code == 200
    assert redis_answers == ["redis://127.0.0.1:6379/1", NOBODY_LISTENS]


@pytest.mark.skipif(not redis_is_running(), reason="no Redis at 127.0.0.1:6379 (CI starts one)")
def test_readyz_is_503_when_a_replica_of_the_redis_cache_is_down(client, db):
    # Given a Redis cache whose primary answers and whose replica nobody answers for
    location = f"redis://127.0.0.1:6379/1;{NOBODY_LISTENS}"
    with override_settings(CELERY_BROKER_URL="filesystem://", CACHES=redis_cache(location)):
        # When probed
        response, body = _readyz(client)
    # Then the process is not ready: a down replica counts
    assert response.status_code == 503
    assert body["checks"]["redis"] == "failed: ConnectionError"


def test_readyz_is_503_naming_the_pending_migrations(client, db, redis_answers, migrations_unchecked, monkeypatch):
    # Given a release whose migration has not been run yet
    pending = SimpleNamespace(app_label="tracker", name="0099_new_column")
    monkeypatch.setattr(
        MigrationExecutor, "migration_plan", lambda self, targets, clean_start=False: [(pending, False)]
    )
    # When probed
    response, body = _readyz(client)
    # Then the process is not ready, and the body names the migration that waits
    assert response.status_code == 503
    assert body["checks"]["migrations"] == "failed: 1 unapplied (tracker.0099_new_column)"
    assert body["checks"]["database"] == "ok"


def test_readyz_keeps_checking_migrations_until_they_are_applied(
    client, db, redis_answers, migrations_unchecked, monkeypatch
):
    # Given a migration pending at the first probe
    pending = SimpleNamespace(app_label="tracker", name="0099_new_column")
    plan = [(pending, False)]
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets, clean_start=False: list(plan))
    assert client.get("/readyz").status_code == 503
    # When `migrate` has run and the orchestrator probes again
    plan.clear()
    # Then the process becomes ready
    assert client.get("/readyz").status_code == 200


def test_readyz_is_503_naming_the_database_when_it_is_down_never_a_500(client, db, redis_answers, monkeypatch):
    # Given a database that refuses connections
    def refused(*args, **kwargs):
        raise OperationalError('connection to server at "10.1.2.3", port 5432 failed: password authentication failed')

    # (patched only around the probe: the test database's own teardown needs a cursor)
    with monkeypatch.context() as patch:
        patch.setattr(connections[DEFAULT_DB_ALIAS], "cursor", refused)
        # When probed
        response, body = _readyz(client)
    # Then the answer is a 503 that names the database and the kind of failure, nothing more
    assert response.status_code == 503
    assert body["status"] == "not ready"
    assert body["checks"]["database"] == "failed: OperationalError"
    text = response.content.decode()
    assert "10.1.2.3" not in text and "password" not in text


def test_probes_write_no_request_log_line(client, db, redis_answers, caplog):
    # Given probes every few seconds would drown the logs
    caplog.set_level("INFO", logger="tracker.request")
    # When both probes are answered
    client.get("/healthz")
    client.get("/readyz")
    # Then no request line is written for them
    assert [r for r in caplog.records if r.name == "tracker.request"] == []
