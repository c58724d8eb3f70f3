"""How submitting cases (POST /api/v1/cases/) scales with concurrent clients, under gunicorn: prints a table.

    .venv/bin/python bench/submit.py                    # PostgreSQL tracker_bench_submit, zone x1, both numberings
    .venv/bin/python bench/submit.py --numbering sequence --rounds 1 --requests 400

The set-up is bench/api.py's (its helpers are imported): the database is created and migrated if needed, a small
zone loaded, an API token issued for an enterprise user, gunicorn started on a free port. Then, for each round and
each numbering, gunicorn is (re)started and --requests submissions are sent from 1, 2, 4 and 8 client threads.

Numberings: `sequence` is the code as it is (a PostgreSQL sequence per year, no lock held); `row-lock` puts back the
former reserve_case_numbers, which locked the year's CaseNumberSequence row from the 3rd statement to COMMIT
(patched into each worker by this file acting as gunicorn's config module). The variants alternate within a round,
so the machine's other load falls on both. Between runs the counters are handed over (the row and the sequence set
to the highest number used), as both write the same year. The queries per submit are counted in this process.

The cases written (titled "压测诉求 …") stay in the database: case events are append-only. Use a benchmark database.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import api

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/tracker_bench_submit"
NUMBERINGS = ("row-lock", "sequence")
CONCURRENCY = (1, 2, 4, 8)
NUMBERING_VARIABLE = "BENCH_SUBMIT_NUMBERING"


def reserve_with_row_lock(year: int, count: int = 1) -> list[str]:
    """reserve_case_numbers as it was: the year's row locked from here to COMMIT."""
    from services.cases.steps import format_case_number
    from tracker.models import CaseNumberSequence

    CaseNumberSequence.objects.bulk_create([CaseNumberSequence(year=year)], ignore_conflicts=True)
    sequence = CaseNumberSequence.objects.select_for_update().get(year=year)
    first = sequence.last + 1
    sequence.last += count
    sequence.save(update_fields=["last"])
    return [format_case_number(year, n) for n in range(first, first + count)]


def use_numbering(numbering: str) -> None:
    from services.cases import steps

    if not hasattr(steps, "_bench_original_reserve"):
        steps._bench_original_reserve = steps.reserve_case_numbers
    steps.reserve_case_numbers = reserve_with_row_lock if numbering == "row-lock" else steps._bench_original_reserve


def post_worker_init(worker) -> None:
    """Gunicorn's hook (this file is its config module, see start_server): the numbering asked for, per worker."""
    use_numbering(os.environ.get(NUMBERING_VARIABLE, "sequence"))


def hand_over(year: int) -> None:
    """Set the year's row and its sequence after the highest number used, whichever numbering wrote last."""
    from django.db import connection, transaction

    from services.cases.steps import _highest_number_used
    from tracker.models import CaseNumberSequence

    with transaction.atomic():
        highest = _highest_number_used(year)
        CaseNumberSequence.objects.update_or_create(year=year, defaults={"last": highest})
        with connection.cursor() as cursor:
            name = f"tracker_case_number_{year}"
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
            if cursor.fetchone()[0]:
                cursor.execute("SELECT setval(%s::regclass, %s, false)", [name, highest + 1])


def queries_per_submit(key: str, categories: list[str], numbering: str) -> int:
    """One submission through Django's test client in this process, its queries counted."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    use_numbering(numbering)
    client = APIClient()
    body = {"category": categories[0], "title": f"{api.SUBMIT_TITLE} 计数", "description": "bench/submit.py 计数"}
    try:
        with CaptureQueriesContext(connection) as queries:
            response = client.post(
                "/api/v1/cases/",
                body,
                format="json",
                secure=True,
                HTTP_HOST="127.0.0.1",
                HTTP_AUTHORIZATION=f"Token {key}",
            )
    finally:
        use_numbering("sequence")
    if response.status_code != 201:
        sys.exit(f"the counted submission failed: HTTP {response.status_code} {response.content[:500]!r}")
    return len(queries.captured_queries)


def submit_scenario(username: str, key: str, categories: list[str], tag: str) -> api.Scenario:
    def request(number: int):
        body = {
            "category": categories[number % len(categories)],
            "title": f"{api.SUBMIT_TITLE} {tag}-{number:05d}",
            "description": "bench/submit.py 写入的压测诉求：并发提交的吞吐。",
        }
        return "POST", "/api/v1/cases/", body

    return api.Scenario("submit", username, key, request)


def start_server(args, numbering: str, log_path: Path):
    """Gunicorn as bench/api.py starts it, this file its config module, so that each worker takes the numbering
    asked for."""
    env = {
        NUMBERING_VARIABLE: numbering,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(api.ROOT), os.environ.get("PYTHONPATH")])),
    }
    server = api.start_gunicorn(args, log_path, env=env, options=("--config=python:bench.submit",))
    base_url = f"http://127.0.0.1:{args.port}"
    api.wait_until_answering(server, base_url, log_path)
    return server, base_url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help=f"default {DEFAULT_DATABASE_URL}")
    parser.add_argument("--scale", type=int, default=1, help="blocks of the demo zone to load (default 1)")
    parser.add_argument("--requests", type=int, default=200, help="submissions per run (default 200)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of both numberings (default 2)")
    parser.add_argument("--numbering", choices=[*NUMBERINGS, "both"], default="both")
    parser.add_argument(
        "--workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn workers (default 2 × cores + 1)"
    )
    args = parser.parse_args()
    if min(args.scale, args.requests, args.rounds, args.workers) < 1:
        parser.error("--scale, --requests, --rounds and --workers must be at least 1")
    numberings = NUMBERINGS if args.numbering == "both" else (args.numbering,)

    api.signal.signal(api.signal.SIGTERM, api._interrupt)
    os.environ.setdefault("API_THROTTLE_RATE", "1000000/s")
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
    api.setup_django(args.database_url)
    api.ensure_database()
    api.ensure_zone(args.scale)

    from django.db import connection, connections
    from django.utils import timezone

    if connection.vendor != "postgresql":
        sys.exit("bench/submit.py measures PostgreSQL (SQLite serialises writers whatever the numbering)")
    year = timezone.localdate().year
    people = api.pick_people()
    keys, token_ids = api.issue_tokens(people)
    user = people["enterprise"].username
    log_path = Path(tempfile.mkstemp(prefix="bench-submit-gunicorn-", suffix=".log")[1])
    server = None
    results: dict[tuple[str, int], list[tuple[float, float, float, int]]] = {}
    try:
        categories = [c.code for c in api_categories()]
        queries = {}
        for numbering in numberings:
            hand_over(year)
            queries[numbering] = queries_per_submit(keys["enterprise"], categories, numbering)
        hand_over(year)
        connections.close_all()
        database = urlsplit(args.database_url).path.lstrip("/")
        print(
            f"submit benchmark · zone x{args.scale} in {database} · gunicorn {args.workers} sync workers · "
            f"{args.requests} submissions per run · {args.rounds} round(s) · commit {api.git_commit()} · "
            f"{api.load_average()}",
            flush=True,
        )
        tag = time.strftime("%Y%m%d-%H%M%S")
        for round_number in range(args.rounds):
            for numbering in numberings:
                args.port = api.free_port()
                server, base_url = start_server(args, numbering, log_path)
                for clients in CONCURRENCY:
                    # The workers connect and warm up before anything is timed (a few submissions, not counted).
                    scenario = submit_scenario(user, keys["enterprise"], categories, f"{tag}-{round_number}")
                    if clients == 1:
                        api.run(scenario, base_url, args.workers, 2 * args.workers)
                    outcome = api.run(scenario, base_url, clients, args.requests)
                    ordered = sorted(outcome.latencies_ms)
                    results.setdefault((numbering, clients), []).append(
                        (
                            len(ordered) / outcome.seconds,
                            api.percentile(ordered, 0.50),
                            api.percentile(ordered, 0.95),
                            outcome.errors,
                        )
                    )
                    if outcome.first_error:
                        print(f"{numbering} ×{clients}: first error: {outcome.first_error}", flush=True)
                api.stop_gunicorn(server)
                server = None
                hand_over(year)
                connections.close_all()
        print_results(results, numberings, queries, args.rounds)
        print(f"{api.load_average()} at the end (clients, gunicorn and PostgreSQL share this machine's cores)")
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    finally:
        if server is not None:
            api.stop_gunicorn(server)
        api.delete_tokens(token_ids)
        log_path.unlink(missing_ok=True)


def api_categories():
    from tracker.models import Category

    return list(Category.objects.filter(is_active=True).order_by("sort_order", "id"))


def print_results(results, numberings, queries, rounds) -> None:
    head = (
        "numbering",
        "queries",
        "clients",
        *(f"req/s r{r + 1}" for r in range(rounds)),
        "p50 ms",
        "p95 ms",
        "errors",
    )
    lines = []
    for numbering in numberings:
        for clients in CONCURRENCY:
            runs = results.get((numbering, clients), [])
            lines.append(
                (
                    numbering,
                    str(queries[numbering]),
                    str(clients),
                    *(f"{rate:,.1f}" for rate, *_ in runs),
                    # The median of the rounds' p50 and p95.
                    f"{sorted(r[1] for r in runs)[len(runs) // 2]:,.1f}",
                    f"{sorted(r[2] for r in runs)[len(runs) // 2]:,.1f}",
                    str(sum(r[3] for r in runs)),
                )
            )
    widths = [max(len(row[i]) for row in [head, *lines]) for i in range(len(head))]
    for row in [head, *lines]:
        print(
            "  ".join(
                cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )


if __name__ == "__main__":
    main()
