"""How fast the staff workbench and the enterprise portal answer with the demo zone loaded: prints timings,
asserts nothing.

    .venv/bin/python bench/workbench.py                 # SQLite in var/bench.sqlite3, demo zone
    DATABASE_URL=postgres://postgres@127.0.0.1/tracker_bench .venv/bin/python bench/workbench.py --scale 10

Each page is fetched through Django's test client (no network), signed in as the person who uses it, five times;
the median and the number of SQL queries are printed. The first run migrates and loads the zone.
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
os.environ.setdefault("LOG_LEVEL", "WARNING")  # not a line per request measured: the figures are the output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1, help="blocks of the demo zone to load (default 1)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.urls import reverse

    from services.selectors import my_cases_q
    from tracker.models import Case, CaseEvent, User

    setup_test_environment()  # lets the test client's host in; nothing else changes
    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("seed", demo=True, scale=args.scale, stdout=quiet)
    print(f"database: {connection.vendor}; {Case.objects.count():,} cases, {CaseEvent.objects.count():,} events")

    case = Case.objects.filter(status=Case.Status.CLOSED).order_by("id").first()
    concierge = User.objects.get(username="concierge001")
    accepted = (
        Case.objects.filter(my_cases_q(concierge), status__in=[Case.Status.ACCEPTED, Case.Status.IN_PROGRESS])
        .order_by("id")
        .first()
    )
    enterprise_user = User.objects.get(username="ent0001")
    # The portal's case page for the enterprise case with the longest timeline.
    own_case = (
        Case.objects.filter(enterprise_id=enterprise_user.enterprise_id)
        .annotate(n=Count("events"))
        .order_by("-n", "id")
        .first()
    )
    pages = [
        ("leader01", "case list, whole zone", reverse("admin:tracker_case_changelist")),
        ("leader01", "case list, overdue", reverse("admin:tracker_case_changelist") + "?deadline=overdue"),
        ("concierge001", "case list, my cases", reverse("admin:tracker_case_changelist") + "?queue=mine"),
        ("concierge001", "home: my open cases", reverse("admin:tracker_case_changelist") + "?queue=mine&state=open"),
        ("leader01", "task list, red cards", reverse("admin:tracker_task_changelist") + "?deadline=red"),
        ("concierge001", "register a case (form)", reverse("admin:tracker_case_add")),
        ("concierge001", "decompose (form)", reverse("admin:tracker_case_action", args=[accepted.pk, "decompose"])),
        ("economic_development1", "task list, my tasks", reverse("admin:tracker_task_changelist") + "?queue=mine"),
        ("leader01", "dashboard", reverse("admin:dashboard")),
        ("leader01", "case page", reverse("admin:tracker_case_change", args=[case.pk])),
        ("leader01", "ledger export, closed cases", reverse("admin:tracker_case_export") + "?status__exact=closed"),
        ("ent0001", "portal: my cases", reverse("portal:home")),
        ("ent0001", "portal: finished cases", reverse("portal:home") + "?show=finished"),
        ("ent0001", "portal: case page", reverse("portal:case", args=[own_case.number]) if own_case else None),
        ("ent0001", "portal: submit form", reverse("portal:submit")),
        ("ent0001", "portal: notifications", reverse("portal:notifications")),
    ]
    print(f"{'page':32} {'user':22} {'median ms':>10} {'queries':>8}")
    for username, label, url in pages:
        if url is None:
            continue
        client = Client()
        client.force_login(User.objects.get(username=username))
        timings = []
        for _ in range(args.runs):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        print(f"{label:32} {username:22} {statistics.median(timings):10.1f} {len(queries):8d}")


if __name__ == "__main__":
    main()
