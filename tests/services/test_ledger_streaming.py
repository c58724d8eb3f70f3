"""The ledger in bounded memory (services/reports/ledger.py): rows written as the cases are read, chunk by chunk."""

import tracemalloc
import zipfile
from io import BytesIO

from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from services.reports.ledger import case_ledger, case_ledger_file, write_case_ledger
from tests.factories import case_at
from tracker.models import Case, Task

CS = Case.Status


def _copies(case: Case, count: int) -> None:
    """`count` more cases like `case`, each with a copy of its tasks, inserted in bulk (the services are too slow
    for thousands; the ledger only reads)."""
    tasks = list(Task.objects.filter(case=case))
    copies = []
    first = Case.objects.count()
    for index in range(first, first + count):
        copy = Case.objects.get(pk=case.pk)
        copy.pk = None
        copy.number = f"{case.number}-{index:05d}"
        copies.append(copy)
    Case.objects.bulk_create(copies, batch_size=500)
    task_copies = []
    for copy in copies:
        for task in tasks:
            task_copy = Task.objects.get(pk=task.pk)
            task_copy.pk, task_copy.case_id = None, copy.pk
            task_copies.append(task_copy)
    Task.objects.bulk_create(task_copies, batch_size=500)


def _rows(data: bytes) -> list[tuple]:
    return list(load_workbook(BytesIO(data)).worksheets[0].iter_rows(min_row=2, values_only=True))


def _queries(cases, chunk_size: int) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        written = write_case_ledger(cases, BytesIO(), chunk_size=chunk_size)
    return written, len(queries.captured_queries)


def test_the_queries_are_a_few_per_chunk_never_per_case(zone):
    # Given ten closed cases with their tasks and verdicts
    _copies(case_at(zone, CS.CLOSED), 9)
    few = _queries(Case.objects.order_by("id"), chunk_size=100)
    # When there are sixty
    _copies(Case.objects.order_by("id").first(), 50)
    many = _queries(Case.objects.order_by("id"), chunk_size=100)
    # Then the ledger of sixty costs as many queries as the ledger of ten: the cases, and their tasks
    assert (few, many) == ((10, 2), (60, 2))
    # And read in chunks of 25, the sixty cost one query for the cases and one for each chunk's tasks
    assert _queries(Case.objects.order_by("id"), chunk_size=25) == (60, 1 + 3)


def test_rows_keep_the_order_and_tasks_of_their_case_across_chunks(zone):
    # Given a closed case with its one task and a submitted case without any, and copies of the closed one
    closed = case_at(zone, CS.CLOSED)
    _copies(closed, 4)
    submitted = case_at(zone, CS.SUBMITTED, title="待受理的诉求")
    # When the ledger is written three cases at a time, newest first
    with case_ledger_file(Case.objects.order_by("-id")) as file:
        whole = _rows(file.read())
    output = BytesIO()
    assert write_case_ledger(Case.objects.order_by("-id"), output, chunk_size=3) == 6
    rows = _rows(output.getvalue())
    # Then it is the same ledger as in one chunk: each row with its own case's tasks, in the queryset's order
    assert rows == whole
    assert [row[0] for row in rows] == list(Case.objects.order_by("-id").values_list("number", flat=True))
    assert rows[0][0] == submitted.number and rows[0][17:19] == (0, 0)
    assert all(row[17:19] == (1, 1) and "协调规划许可" in row[19] for row in rows[1:])


def test_the_workbook_is_written_row_by_row_to_disk(zone):
    # Given a closed case
    case_at(zone, CS.CLOSED)
    # When the ledger is written
    data = case_ledger(Case.objects.all())
    # Then its strings are inline in the sheet (XlsxWriter's constant_memory mode) rather than gathered in a
    # shared-string table held in memory until the end
    with zipfile.ZipFile(BytesIO(data)) as package:
        assert "xl/sharedStrings.xml" not in package.namelist()
        assert 't="inlineStr"' in package.read("xl/worksheets/sheet1.xml").decode()


def _peak(cases, chunk_size: int) -> int:
    tracemalloc.start()
    try:
        write_case_ledger(cases, BytesIO(), chunk_size=chunk_size)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_bounded_whatever_the_number_of_cases(zone):
    # Given 200 closed cases
    _copies(case_at(zone, CS.CLOSED), 199)
    write_case_ledger(Case.objects.all(), BytesIO(), chunk_size=100)  # warm caches: translations, formats
    small = _peak(Case.objects.order_by("id"), chunk_size=100)
    # When there are ten times as many
    _copies(Case.objects.order_by("id").first(), 1800)
    large = _peak(Case.objects.order_by("id"), chunk_size=100)
    # Then the peak of Python memory while writing grows far less than the rows (the output file aside, which
    # here is a BytesIO of about 100 KB per 1,000 cases)
    assert large < small * 2, (small, large)
