"""How long the reminder sweep takes with the demo zone loaded on PostgreSQL: prints a table, asserts nothing.

    .venv/bin/python bench/reminders.py                 # PostgreSQL tracker_bench_rem10, zone x10
    .venv/bin/python bench/reminders.py --scale 100 --runs 1   # tracker_bench_rem100: a first sweep takes minutes
    .venv/bin/python bench/reminders.py --database-url postgres://postgres@127.0.0.1:5432/other --scale 1

The script migrates the database (creating it first if it is missing) and loads the demo zone at --scale unless
it is already there (about 6 s per block). Then, at the real time of the run:

- `due_reminders` alone: what the rules call for, read from the tables (the reminder log not consulted);
- the first sweep: writes every due reminder with its notices and pushes (`services.time.reminders.sweep`);
- a second sweep right after: finds everything in the reminder log and writes nothing — the cost of a sweep every few
  minutes when nothing new has come due, which is what beat runs almost always.

Each run happens inside a transaction that is rolled back, so the database is left as it was and every run of
the script measures the same first sweep; the pushes the sweep writes are never queued (nothing commits). The
commit itself is therefore not in the figures. Times are medians of --runs runs; queries are counted as they are
sent (an execute wrapper). Figures depend on the day (a rest day has no "due tomorrow" reminders, and the zone's
deadlines are dated from the day it was seeded) and on the scale beyond proportion: the blocks of the zone share
the departments, so at xN a task given to a department reminds N times as many officers.
"""

import argparse
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.api import ensure_database, ensure_zone, git_commit, load_average, setup_django  # noqa: E402


class Rollback(Exception):
    """Raised to leave the transaction a run wrote in."""


class QueryCounter:
    """Counts the statements sent while installed (an execute wrapper: no SQL kept, next to no overhead)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def timed(step):
    """(seconds, queries, result) of one call of `step`."""
    from django.db import connection

    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        result = step()
        seconds = time.perf_counter() - started
    return seconds, counter.count, result


def measure(runs: int):
    """Lists of (seconds, queries, result): due_reminders alone, the first sweep, the second sweep."""
    from django.db import transaction

    from services.time import reminders

    due = [timed(reminders.due_reminders) for _ in range(runs)]
    first, second = [], []
    for _ in range(runs):
        try:
            with transaction.atomic():
                first.append(timed(reminders.sweep))
                second.append(timed(reminders.sweep))
                raise Rollback
        except Rollback:
            pass
    return due, first, second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10, help="blocks of the demo zone (default 10)")
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL database meant for benchmarks (default postgres://postgres@127.0.0.1:5432/"
        "tracker_bench_rem<scale>)",
    )
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    database_url = args.database_url or f"postgres://postgres@127.0.0.1:5432/tracker_bench_rem{args.scale}"

    setup_django(database_url)
    from django.db import connection
    from django.utils import timezone

    from services.time.calendar import is_working_day
    from tracker.models import Case, Reminder, Task

    if connection.vendor != "postgresql":
        sys.exit("this benchmark is for PostgreSQL: pass a postgres:// --database-url")
    ensure_database()
    ensure_zone(args.scale)

    now = timezone.localtime()
    today = now.date()
    print(
        f"commit {git_commit()}; PostgreSQL {connection.pg_version // 10000}, database "
        f"{connection.settings_dict['NAME']}, zone x{args.scale}: {Case.objects.count():,} cases, "
        f"{Task.objects.count():,} tasks, {Reminder.objects.count():,} reminders already in the reminder log; "
        f"{load_average()}"
    )
    print(f"now {now:%Y-%m-%d %H:%M} ({'working day' if is_working_day(today) else 'rest day'}); {args.runs} runs")

    due_runs, first, second = measure(args.runs)
    due = due_runs[0][2]
    result = first[0][2]
    by_kind = Counter(d.kind for d in due)
    print("due: " + ", ".join(f"{kind} {n}" for kind, n in sorted(by_kind.items())))
    rows_written = result.reminders + result.notices + result.pushes
    print(
        f"first sweep writes: {result.reminders:,} reminders, {result.notices:,} notices, {result.pushes:,} pushes "
        f"({rows_written / statistics.median(run[0] for run in first):,.0f} rows/s)"
    )

    rows = [
        ("due_reminders alone", due_runs, len(due)),
        ("sweep, first", first, result.reminders),
        ("sweep, second (nothing new)", second, second[0][2].reminders),
    ]
    print(f"{'step':<30}{'seconds':>10}{'items':>10}{'items/s':>12}{'queries':>10}")
    for label, runs, items in rows:
        seconds = statistics.median(run[0] for run in runs)
        queries = runs[0][1]
        rate = f"{items / seconds:,.0f}" if items else "-"
        print(f"{label:<30}{seconds:>10.3f}{items:>10,}{rate:>12}{queries:>10}")
    print(
        "items: reminders the rules call for (due_reminders) or reminders written (sweeps); "
        f"the second sweep checks {second[0][2].due:,} due items against the reminder log"
    )


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    main()
