"""How long the ledger export (导出台账) takes and how much memory its worker needs: prints seconds and peak RSS,
asserts nothing.

    DATABASE_URL=postgres://postgres@127.0.0.1/tracker_bench .venv/bin/python bench/ledger.py --scale 10
    DATABASE_URL=... .venv/bin/python bench/ledger.py --scale 10 --filter ""       # every case, not only closed

The export is requested through Django's test client as leader01 (the whole zone), once per variant, each in a
fresh process so that its peak RSS is its own: `streamed` is the export as it is (rows written as the cases are
read, to a temporary file, streamed); `in-memory` is the export as it was before (every row read at once, the
workbook built in memory with XlsxWriter's in_memory option, answered as one HttpResponse body), kept here only.
The first run migrates and loads the zone (`manage.py seed --scale N`; blocks already there are skipped).
"""

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}")
os.environ.setdefault("LOG_LEVEL", "WARNING")  # not a line per request measured: the figures are the output

VARIANTS = ("in-memory", "streamed")


def _rss_mib() -> float:
    """The process's resident memory now, from /proc (ru_maxrss only knows the peak)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def in_memory_ledger(cases, *, today=None):
    """The export as it was before streaming: every row and every task line in lists, the workbook in memory.
    Returns a file object, as `case_ledger_file` does, so that the view can answer it."""
    from io import BytesIO

    import xlsxwriter
    from django.utils import timezone

    from services.reports import ledger

    today = today or timezone.localdate()
    labels = ledger._Labels()
    rows = next(ledger._case_chunks(cases, today, chunk_size=2**31 - 1), [])
    tasks = ledger._task_lines(cases.order_by().values("pk"), labels) if rows else {}
    output = BytesIO()
    book = xlsxwriter.Workbook(output, {**ledger._WORKBOOK_OPTIONS, "in_memory": True})
    sheet = book.add_worksheet("诉求台账")
    bold = book.add_format({"bold": True})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    formats = {
        ledger.datetime: book.add_format({"num_format": ledger.DATETIME_FORMAT}),
        ledger.date: book.add_format({"num_format": ledger.DATE_FORMAT}),
    }
    for index, (_header, width) in enumerate(ledger._COLUMNS):
        sheet.set_column(index, index, width)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, len(rows), len(ledger._COLUMNS) - 1)
    sheet.write_row(0, 0, [str(title) for title in ledger.LEDGER_COLUMNS], bold)
    zone_tz, concierges = timezone.get_default_timezone(), {}
    for row, case in enumerate(rows, 1):
        values = ledger._values(case, tasks.get(case.pk, (0, 0, "")), labels, concierges, zone_tz)
        for column, value in enumerate(values):
            if value is None:
                continue
            if isinstance(value, str):
                text = ledger._ILLEGAL_CHARACTERS.sub("", value)
                sheet.write_string(row, column, text, wrap if column in ledger._WRAPPED_COLUMNS else None)
            elif isinstance(value, ledger.date):
                sheet.write_datetime(row, column, value, formats[type(value)])
            else:
                sheet.write_number(row, column, value)
    book.close()
    # The old view answered HttpResponse(bytes): the whole file as one more copy in memory.
    return BytesIO(output.getvalue())


def measure(variant: str, query: str) -> None:
    """One export, in this process; prints one line."""
    import django

    django.setup()
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    from tracker.admin import cases as case_admin
    from tracker.models import User

    setup_test_environment()
    if variant == "in-memory":
        case_admin.case_ledger_file = in_memory_ledger
    client = Client()
    client.force_login(User.objects.get(username="leader01"))
    client.get(reverse("admin:tracker_case_changelist"))  # warm: imports, templates, translations
    before = _rss_mib()
    started = time.perf_counter()
    response = client.get(reverse("admin:tracker_case_export") + (f"?{query}" if query else ""))
    size = sum(len(part) for part in response.streaming_content) if response.streaming else len(response.content)
    seconds = time.perf_counter() - started
    response.close()
    assert response.status_code == 200, response.status_code
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"{variant:10} {seconds:8.1f} {size / 2**20:8.1f} {before:10.0f} {peak:10.0f} {peak - before:+10.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1, help="blocks of the demo zone to load (default 1)")
    parser.add_argument("--filter", default="status__exact=closed", help="the case list's query string to export")
    parser.add_argument("--variant", choices=VARIANTS, help="measure only this one, in this process")
    args = parser.parse_args()
    if args.variant:
        measure(args.variant, args.filter)
        return

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from tracker.models import Case

    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("seed", demo=True, scale=args.scale, stdout=quiet)
    print(f"database: {connection.vendor}; {Case.objects.count():,} cases; export ?{args.filter}")
    connection.close()
    print(f"{'variant':10} {'seconds':>8} {'MiB xlsx':>8} {'RSS before':>10} {'peak RSS':>10} {'MiB added':>10}")
    for variant in VARIANTS:
        command = [sys.executable, __file__, "--variant", variant, "--filter", args.filter]
        subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
