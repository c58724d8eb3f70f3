"""The Content-Security-Policy on every kind of page, templates that need nothing it forbids, and the language
cookie's flags. (That the pages work under the policy in a real browser: tests/browser/.)"""

import base64
import hashlib
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

from tests.factories import case_at
from tracker.models import Case

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "tracker" / "templates"
# Anything the policy blocks, written into a template: an event handler attribute (onchange=, onsubmit=, ...),
# a javascript: address, a style attribute. A <script> must have a src, a <style> its hash in the policy.
FORBIDDEN = re.compile(r"""\son[a-z]+\s*=|javascript:|\sstyle\s*=""", re.IGNORECASE)
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style\b[^>]*>(.*?)</style>", re.IGNORECASE | re.DOTALL)


def policy_of(response) -> dict[str, list[str]]:
    """The response's Content-Security-Policy as {directive: [sources]}."""
    header = response.headers["Content-Security-Policy"]
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in directives}


def style_hash(css: str) -> str:
    """The CSP source that allows a style element with exactly this text."""
    return f"'sha256-{base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()}'"


def inline_code(text: str) -> list[str]:
    """What in a template's text the policy would refuse to run or apply."""
    allowed_styles = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["style-src"]
    found = [match.group(0).strip() for match in FORBIDDEN.finditer(text)]
    found += [match.group(0) for match in SCRIPT_TAG.finditer(text) if not re.search(r"\ssrc\s*=", match.group(1))]
    found += [
        f"<style> (its hash {style_hash(match.group(1))} is not in style-src)"
        for match in STYLE_ELEMENT.finditer(text)
        if style_hash(match.group(1)) not in allowed_styles
    ]
    return found


@pytest.fixture
def pages(client, zone):
    """One address of each kind, as a signed-in member of staff (who may also open the API)."""
    case = case_at(zone, Case.Status.SUBMITTED)
    client.force_login(zone.concierge)
    return {
        "workbench list": "/admin/tracker/case/",
        "workbench case page": f"/admin/tracker/case/{case.pk}/change/",
        "API JSON": "/api/v1/categories/",
        "API JSON 404": "/api/v1/nothing-here/",
        "API docs": "/api/docs/",
        "API docs init script": "/api/docs/?script=",
        "API schema": "/api/schema/",
        "page not found": "/no-such-page/",
    }


def test_every_kind_of_page_carries_the_policy(client, pages):
    for kind, address in pages.items():
        response = client.get(address)
        assert response.status_code in (200, 404), (kind, response.status_code)
        assert policy_of(response)["script-src"] == ["'self'"], kind


def test_portal_pages_carry_the_policy(client, zone):
    # Signed out (the login page) and signed in (the list of cases)
    assert "default-src" in policy_of(client.get("/portal/login/"))
    client.force_login(zone.enterprise_user)
    response = client.get("/portal/")
    assert response.status_code == 200 and "default-src" in policy_of(response)
    missing = client.get("/portal/cases/GX-NONE/")
    assert missing.status_code == 404 and "default-src" in policy_of(missing)


def test_the_policy_allows_only_our_own_files_and_no_inline_script(client):
    # The one inline style allowed is the error pages' own (they render when nothing else works)
    error_page_style = STYLE_ELEMENT.search((TEMPLATES / "errors" / "base.html").read_text(encoding="utf-8")).group(1)
    policy = policy_of(client.get("/portal/login/"))
    assert policy == {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", style_hash(error_page_style)],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    for directive in ("default-src", "script-src"):
        assert "'unsafe-inline'" not in policy[directive] and "'unsafe-eval'" not in policy[directive]


def test_the_api_docs_load_their_init_script_from_a_file(client):
    # Swagger UI's page names its init script instead of carrying it inline
    page = client.get("/api/docs/").content.decode()
    assert inline_code(page) == []
    script = re.search(r'<script src="([^"]*script=[^"]*)"', page).group(1).replace("&amp;", "&")
    response = client.get(script)
    assert response.status_code == 200 and response["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle(" in response.content


def test_no_template_has_inline_script_or_style():
    offenders = {
        str(path.relative_to(TEMPLATES)): found
        for path in sorted(TEMPLATES.rglob("*"))
        if path.is_file() and (found := inline_code(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def test_the_template_check_finds_what_the_policy_forbids():
    # The check above must be able to fail: each of these is refused by the browser under the policy
    for text in (
        '<select name="language" onchange="this.form.submit()">',
        "<form onsubmit=\"return confirm('?')\">",
        "<script>alert(1)</script>",
        '<script type="module">import "x";</script>',
        '<a href="javascript:void(0)">',
        '<span style="width: 10%">',
        "<style>body { margin: 0 }</style>",
        "<STYLE media='print'>\nbody { margin: 0 }\n</STYLE>",
    ):
        assert inline_code(text), text
    assert inline_code('<script src="/static/tracker/workbench.js" defer></script><span data-confirm="x">') == []


@pytest.mark.parametrize("secure", [True, False])
def test_the_language_cookie_is_lax_http_only_and_secure_when_the_settings_say(client, secure):
    # When someone chooses English with the switch
    with override_settings(LANGUAGE_COOKIE_SECURE=secure):
        response = client.post("/i18n/setlang/", {"language": "en", "next": "/portal/login/"})
    # Then the cookie remembering it is sent on same-site requests only, never to scripts, over HTTPS when asked
    assert response.status_code == 302
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "en"
    assert cookie["samesite"] == "Lax" and cookie["httponly"] is True
    assert bool(cookie["secure"]) is secure
