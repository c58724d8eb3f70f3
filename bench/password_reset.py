"""Does asking for a password reset take the same time for a registered address and for an unknown one? Prints
timings of both, interleaved; asserts nothing.

    .venv/bin/python bench/password_reset.py            # SQLite in var/bench.sqlite3 (demo zone), Redis broker
    DATABASE_URL=postgres://postgres@127.0.0.1/tracker_bench .venv/bin/python bench/password_reset.py --runs 400

Each request goes through Django's test client (no network) with real commits, so the outbox row is written and
handed to the broker after commit, as in production (Celery on Redis, CELERY_BROKER_URL, default DB 14 of the
local Redis, flushed afterwards; no worker consumes it, so no mail leaves). The rate limit is lifted for the run.
The rows it writes are deleted at the end.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
os.environ.setdefault("LOG_LEVEL", "WARNING")

REGISTERED = "bench-reset@example.com"
UNKNOWN = "nobody-{}@example.com"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="requests for each kind of address (default 200)")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from tracker.models import PushDelivery, User

    setup_test_environment()
    settings.PASSWORD_RESET_LIMIT_PER_ADDRESS = settings.PASSWORD_RESET_LIMIT_PER_CLIENT = 10**9
    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("seed", demo=True, stdout=quiet)
    user = User.objects.filter(enterprise__isnull=False, is_active=True).order_by("id").first()
    saved_email = user.email
    User.objects.filter(pk=user.pk).update(email=REGISTERED)
    first_push = PushDelivery.objects.order_by("-id").values_list("id", flat=True).first() or 0

    client = Client()
    timings = {"registered": [], "unknown": []}
    try:
        for n in range(args.runs + 10):  # the first ten of each warm up and are not counted
            for kind, email in (("registered", REGISTERED), ("unknown", UNKNOWN.format(n))):
                started = time.perf_counter()
                response = client.post("/portal/password/reset/", {"email": email})
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 302, response.status_code
                if n >= 10:
                    timings[kind].append(elapsed)
    finally:
        User.objects.filter(pk=user.pk).update(email=saved_email)
        PushDelivery.objects.filter(id__gt=first_push, dedupe_key__startswith="password-reset:").delete()
        if settings.CELERY_BROKER_URL.startswith("redis://"):
            import redis

            redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()

    print(f"database: {connection.vendor}; broker: {settings.CELERY_BROKER_URL}; {args.runs} requests of each kind")
    print(f"{'address':<12}{'median ms':>12}{'p90 ms':>10}{'mean ms':>10}")
    for kind, values in timings.items():
        values.sort()
        p90 = values[int(len(values) * 0.9) - 1]
        print(f"{kind:<12}{statistics.median(values):>12.2f}{p90:>10.2f}{statistics.fmean(values):>10.2f}")


if __name__ == "__main__":
    main()
