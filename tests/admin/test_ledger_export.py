"""The ledger export in the workbench: streamed from a temporary file, the same workbook as the service writes."""

import io

import openpyxl
import pytest
from django.urls import reverse

from services.reports.ledger import LEDGER_COLUMNS
from tests.factories import case_at
from tracker.models import Case

pytestmark = pytest.mark.django_db
CS = Case.Status


def _sheet(content: bytes):
    return openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]


def test_the_export_streams_the_filtered_list_as_an_xlsx_ledger(client, zone):
    # Given a closed case and one still waiting
    closed = case_at(zone, CS.CLOSED)
    case_at(zone, CS.SUBMITTED, title="待受理的诉求")
    client.force_login(zone.concierge)
    # When the concierge exports the closed cases
    response = client.get(reverse("admin:tracker_case_export") + "?status__exact=closed")
    # Then the answer is streamed as an attachment, not built in memory first
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"].startswith('attachment; filename="ledger-')
    content = b"".join(response.streaming_content)
    assert int(response["Content-Length"]) == len(content)
    # And it is the ledger: its sheet, header, filter and the one closed case with its task and verdict
    sheet = _sheet(content)
    assert sheet.title == "诉求台账"
    assert [cell.value for cell in sheet[1]] == [str(title) for title in LEDGER_COLUMNS]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:X2"
    (row,) = sheet.iter_rows(min_row=2, values_only=True)
    assert row[0] == closed.number and row[8] == "已办结"
    assert row[17:19] == (1, 1) and "协调规划许可" in row[19] and row[22] is not None


def test_an_export_of_nothing_is_the_header_alone(client, zone):
    client.force_login(zone.concierge)
    response = client.get(reverse("admin:tracker_case_export") + "?status__exact=closed")
    sheet = _sheet(b"".join(response.streaming_content))
    assert sheet.max_row == 1 and [cell.value for cell in sheet[1]] == [str(title) for title in LEDGER_COLUMNS]


def test_an_unknown_filter_goes_back_to_the_list(client, zone):
    client.force_login(zone.concierge)
    response = client.get(reverse("admin:tracker_case_export") + "?no_such_field=1")
    assert response.status_code == 302 and response["Location"].endswith("?e=1")
