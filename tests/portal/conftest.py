"""What the portal tests share: an enterprise user signed in, real files to upload, and ways to read a page."""

import re
from html.parser import HTMLParser

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import make_case
from tracker.models import Case

PASSWORD = "pass-123456"
# The smallest file a PDF reader (and the content check) accepts as a PDF.
PDF_BYTES = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def portal(client, zone):
    """A browser signed in as the enterprise's user."""
    client.force_login(zone.enterprise_user)
    return client


def pdf(name: str = "厂房图纸.pdf", data: bytes = PDF_BYTES) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def other_case_at(zone, status: str, **kwargs) -> Case:
    """A case of the OTHER enterprise, walked through the services to `status`."""
    return make_case(
        status=status,
        enterprise_user=zone.other_enterprise_user,
        concierge=zone.other_concierge,
        category=zone.category,
        unit=zone.task_force,
        worker=zone.member,
        **kwargs,
    )


def html(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


class _RoleText(HTMLParser):
    """Collects the text inside the first element marked `data-role="<role>"`."""

    VOID = {"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}

    def __init__(self, role: str):
        super().__init__()
        self.role, self.depth, self.found, self.parts = role, 0, False, []

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        if self.depth:
            self.depth += 1
        elif not self.found and dict(attrs).get("data-role") == self.role:
            self.depth, self.found = 1, True

    def handle_endtag(self, tag):
        if self.depth and tag not in self.VOID:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data)


def section(page: str, role: str) -> str | None:
    """The text of the element marked `data-role="<role>"`, whitespace collapsed; None when the page has none."""
    parser = _RoleText(role)
    parser.feed(page)
    return " ".join(" ".join(parser.parts).split()) if parser.found else None


def unread_badge(page: str) -> int:
    """The unread count the navigation shows (0 when there is no badge)."""
    found = re.search(r'class="badge rounded-pill bg-danger unread-count">(\d+)<', page)
    return int(found.group(1)) if found else 0
