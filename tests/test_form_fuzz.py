"""The form fuzzer: every form of the workbench (/admin/) and the portal (/portal/), posted with bad input as each
role, as the API's schema is fuzzed (tests/api).

The forms are found, not listed: each role opens the pages the crawl opens (tests/test_crawl.py: the same zone,
the same roles, the same addresses; a list's filter and sort links aside, which show the same forms), and so does
a visitor not signed in. Every <form method="post"> of a page answering 200 is read — its action, its fields, their
values and options, its buttons, its file inputs. Forms that are the same (the same role, address pattern,
operation and field names) are posted once. Hypothesis then generates posts: each field left as the page offers
it, or omitted, set to another of its options, to NUL, a lone surrogate, raw invalid UTF-8, 100 000 characters, a
number where text is expected and text where a number, date or id is, a huge or out-of-range number, an impossible
date, an unknown choice, or repeated; keys nested like a[b][c], past 1 000; files empty, mislabelled, named with a
NUL; the body urlencoded or multipart whatever the form says. The CSRF token is sent as the page gives it.

It fails on any server error (5xx), and on any write after an error: when the answer refuses the post (4xx, the
form shown again with its errors, or an error or warning message), the database — every row of every model but the
sign-in lockout's (axes) and the sessions — is unchanged, no side effect is queued for after the commit (webhooks,
pushes, Celery tasks), and no file is stored. Each post runs in a transaction rolled back after it: every example
starts from the same zone, and a run is repeatable (each form has its own fixed seed). A failure names the role,
the page, the action and the post, shrunk by Hypothesis to the fields that matter.

FORM_FUZZ_EXAMPLES sets the posts per form (default 10; fewer for a form with fewer than three fields). The count
of (role, form) pairs and of posts is printed: `pytest tests/test_form_fuzz.py -q` shows it.
"""

import copy
import hashlib
import os
import re
import time
import traceback
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote_plus, urljoin, urlsplit

import pytest
from django.apps import apps
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.db import connection, transaction
from django.forms import BaseForm, BaseFormSet
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, resolve
from hypothesis import HealthCheck, Phase, given, seed
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.test_crawl import Crawled, Visitor, build_crawled, pages, quiet_request_logs, routes

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("FORM_FUZZ_EXAMPLES", "10"))

# The fuzzer must keep reaching at least this many (role, form) pairs: a change that hides the forms from it (a
# parser that misses them, pages that stop answering) fails here.
MIN_PAIRS = 300
# Forms of each kind the fuzzer must find (multipart with files, formsets, an object's action, the portal's): a
# parser that misses one kind fails here rather than passing without posting to it.
MUST_REACH = {
    "admin:tracker_case_add",
    "admin:tracker_case_action",
    "admin:tracker_task_action",
    "admin:tracker_category_changelist",
    "admin:tracker_visit_add",
    "portal:submit",
    "portal:add_info",
    "portal:login",
    "portal:settings",
}

# Findings in other helpers' areas, by the action's address name: reported, and the test marked xfail while these
# (and nothing else) fail. Remove an entry when its form is fixed.
KNOWN_FINDINGS: dict[str, str] = {}

ANONYMOUS = "not signed in"

# Forms not fuzzed, by their action's address name, and why.
SKIPPED = {
    "admin:logout": "ends the session; it takes no input",
    "portal:logout": "ends the session; it takes no input",
}

# Address parameters that name an object (or a person's token): forms that differ only in them are the same form.
# The others (an object action's name, an import's kind) name different operations, each posted.
IDENTIFIERS = {"object_id", "pk", "id", "number", "uidb64", "token", "content_type_id", "url"}

# Where a page shows that it refused what was posted: Django's form errors and the workbench's error note, the
# portal's (django-bootstrap5) invalid fields and error alert. Besides these, a refusal is an answer 4xx, a message
# of warning or error level (read from the message storage, redirects included), or a page rendered with a bound
# form that is invalid (read from the response's context: the refusal counts even where the page hides it).
ERROR_MARKERS = re.compile(r'class="[^"]*\b(errornote|errorlist|is-invalid|invalid-feedback|form-errors)\b')

# Tables a refused post may write: django-axes records each failed sign-in (that is its purpose: measured, the only
# write any refusal here makes); a session holds the visitor's own state (messages that overflow their cookie), not
# the zone's. Nothing else is excused — a user's last_login, say, is written by a sign-in that succeeded only.
UNWATCHED_APPS = {"axes", "sessions"}


# ---- the forms of a page -----------------------------------------------------------------------------------------


@dataclass
class Field:
    name: str
    kind: str  # the input's type, "select", "textarea" or "submit" (a named button)
    values: list[str]  # what a browser sends for it as the page offers it (several for a multiple select)
    options: list[str] = field(default_factory=list)  # the values it offers: options, radio and checkbox values
    multiple: bool = False  # a <select multiple>


@dataclass
class PostForm:
    page: str
    action: str
    multipart: bool
    fields: dict[str, Field]


class FormParser(HTMLParser):
    """The <form method="post"> of a page, each with its fields as a browser would submit them."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[PostForm] = []
        self.form: PostForm | None = None
        self.select: Field | None = None
        self.option: dict | None = None
        self.textarea: Field | None = None
        self.buttons = 0
        self.templates = 0  # inside <template>: a row a script copies in, not sent as it is

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        if tag == "template":
            self.templates += 1
        if self.templates:
            return
        if tag == "form":
            self.form = None
            if attrs.get("method", "get").lower() == "post":
                action = urljoin(self.page, attrs.get("action") or self.page)
                multipart = attrs.get("enctype", "").lower() == "multipart/form-data"
                self.form = PostForm(page=self.page, action=action, multipart=multipart, fields={})
                self.forms.append(self.form)
                self.buttons = 0
            return
        if self.form is None or "disabled" in attrs or not attrs.get("name"):
            if tag == "option" and self.select is not None:
                self._open_option(attrs)
            return
        name = attrs["name"]
        if tag == "input":
            self._input(name, attrs.get("type", "text").lower(), attrs)
        elif tag == "button" and attrs.get("type", "submit").lower() == "submit":
            self._button(name, attrs.get("value", ""))
        elif tag == "select":
            self.select = self._field(name, "select")
            self.select.multiple = "multiple" in attrs
        elif tag == "textarea":
            self.textarea = self._field(name, "textarea")
            self.textarea.values.append("")

    def handle_endtag(self, tag):
        if tag == "template":
            self.templates = max(0, self.templates - 1)
        elif self.templates:
            return
        elif tag == "form":
            self.form = None
        elif tag == "option" and self.option is not None:
            self._close_option()
        elif tag == "select" and self.select is not None:
            if self.option is not None:
                self._close_option()
            if not self.select.values and self.select.options and not self.select.multiple:
                self.select.values.append(self.select.options[0])  # a browser sends the first option
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            self.textarea.values[-1] = self.textarea.values[-1].removeprefix("\n")  # as a browser drops it
            self.textarea = None

    def handle_data(self, data):
        if self.templates:
            return
        if self.option is not None:
            self.option["text"] += data
        elif self.textarea is not None:
            self.textarea.values[-1] += data

    def _open_option(self, attrs):
        if self.option is not None:
            self._close_option()  # <option> closed by the next one
        self.option = {"value": attrs.get("value"), "selected": "selected" in attrs, "text": ""}

    def _close_option(self):
        option, self.option = self.option, None
        value = option["value"] if option["value"] is not None else option["text"].strip()
        self.select.options.append(value)
        if option["selected"]:
            self.select.values.append(value)

    def _field(self, name: str, kind: str) -> Field:
        return self.form.fields.setdefault(name, Field(name=name, kind=kind, values=[]))

    def _input(self, name: str, kind: str, attrs: dict):
        if kind in ("image", "reset", "button"):
            return
        if kind == "submit":
            self._button(name, attrs.get("value", ""))
            return
        input_ = self._field(name, kind)
        if kind in ("checkbox", "radio"):
            value = attrs.get("value", "on")
            input_.options.append(value)
            if "checked" in attrs:
                input_.values.append(value)
        elif kind != "file":  # an empty file input is sent as an empty part: see Post.pairs
            input_.values.append(attrs.get("value", ""))

    def _button(self, name: str, value: str):
        button = self._field(name, "submit")
        button.options.append(value)
        if self.buttons == 0:
            button.values.append(value)  # the first button is the one Enter presses
        self.buttons += 1


def forms_of(page: str, html: str) -> list[PostForm]:
    parser = FormParser(page)
    parser.feed(html)
    parser.close()
    return parser.forms


# ---- what is posted ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    name: str
    content: bytes
    content_type: str = "application/octet-stream"

    def __repr__(self) -> str:
        return f"Upload({short(self.name)}, {len(self.content)} bytes, {self.content_type})"


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
UPLOADS = [
    Upload("", b""),  # what a browser sends for a file input left empty
    Upload("空文件.pdf", b"", "application/pdf"),
    Upload("说明.pdf", PDF, "application/pdf"),
    Upload("setup.exe", b"MZ\x90\x00\x03", "application/x-msdownload"),
    Upload("照片.pdf", PNG, "application/pdf"),  # a picture named as a PDF
    Upload("说明.pdf", b"<html><script>alert(1)</script>", "application/pdf"),
    Upload("a\x00.pdf", PDF, "application/pdf"),
    Upload("名" * 300 + ".pdf", PDF, "application/pdf"),
    Upload("../../etc/passwd.pdf", PDF, "application/pdf"),
    Upload("坏\udcff名.pdf", PDF, "application/pdf"),  # not UTF-8 on the wire
    Upload("noextension", PDF),
]
LONG_TEXT = "长" * 100_000
# Strings are sent encoded as UTF-8 (a lone surrogate as its three bytes, as a client that does not check sends
# it); bytes are put into the body as they are — what no browser sends but anyone can.
JUNK: list[str | bytes] = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    b"\xff\xfe",
    b"\xc0\x80",  # an overlong NUL
    b"%ED%A0%80",  # a surrogate, percent-encoded
    b"%zz%",
    LONG_TEXT,
    "0",
    "-1",
    "1.5",
    "9" * 40,
    "2147483648",
    "-9223372036854775809",
    "1e309",
    "NaN",
    "999999999",
    "²",  # a digit to str.isdigit(), not a number to int()
    "１２",  # full-width digits
    "abc",
    "9999-12-31",
    "0000-00-00",
    "2024-02-30",
    "9999-12-31 23:59:59",
    "99:99",
    "__no_such_choice__",
    "<script>alert(1)</script>",
    "' OR '1'='1' --",
    "{{ request.user }}",
    "%(name)s %s %d",
    "\u202e\ufeff",
    "😀",
    "a\r\nb",
    "true",
    "null",
    "[]",
    '{"a": 1}',
]


def short(value: object, limit: int = 80) -> str:
    """A value as a failure shows it: 100 000 characters as their first few and a count."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit // 2]}…({len(text)} chars)"


@dataclass(frozen=True)
class Post:
    """A generated post: the fields changed from what the page offers, keys it does not have, and the encoding."""

    changes: tuple[tuple[str, tuple], ...]
    extras: tuple[tuple[str, tuple], ...]
    multipart: bool

    def pairs(self, form: PostForm) -> list[tuple[str, object]]:
        changed = dict(self.changes)
        pairs = []
        for name, field_ in form.fields.items():
            values = changed.get(name, field_.values)
            if field_.kind == "file" and name not in changed:
                values = [UPLOADS[0]] if self.multipart else []
            pairs += [(name, value) for value in values]
        return pairs + [(name, value) for name, values in self.extras for value in values]

    def __repr__(self) -> str:
        changes = {name: [short(v) for v in values] for name, values in self.changes}
        extras = {short(name): f"{len(values)} × {short(values[0])}" for name, values in self.extras}
        return f"Post(changes={changes}, extras={extras}, multipart={self.multipart})"


def _alone(value) -> tuple:
    return (value,)


def _after(kept_and_value: tuple) -> tuple:
    kept, value = kept_and_value
    return (*(kept or ("1",)), value)


def _as_text(number: int) -> tuple:
    return (str(number),)


def field_values(field_: Field) -> st.SearchStrategy[tuple]:
    """The values sent under one field's name: shrinking leads to what the page offers."""
    kept = tuple(field_.values)
    junk = st.sampled_from(JUNK)
    choices = [st.just(kept)]
    if field_.kind == "file":
        uploads = st.sampled_from(UPLOADS[1:])
        choices += [uploads.map(_alone), st.tuples(uploads, uploads)]
    if field_.options:
        choices.append(st.sampled_from(field_.options).map(_alone))
    choices += [
        st.just(()),  # left out
        junk.map(_alone),
        st.tuples(st.just(kept), junk).map(_after),  # the key repeated
        st.text(max_size=30).map(_alone),
        st.integers(min_value=-(2**70), max_value=2**70).map(_as_text),
    ]
    return st.one_of(choices)


def extra_keys(form: PostForm) -> list[tuple[str, tuple]]:
    """Keys a page never sends: nested like PHP or Rails parse them, empty, far too many."""
    name = next((n for n in form.fields if n != "csrfmiddlewaretoken"), "a")
    return [
        (f"{name}[]", ("1", "2")),
        (f"{name}[a][b]", ("x",)),
        ("a[b][c]", ("x",)),
        ("a" + "[a]" * 500, ("deep",)),
        ("", ("no name",)),
        ("__proto__[is_superuser]", ("1",)),
        ("many", tuple(str(i) for i in range(1_100))),  # past DATA_UPLOAD_MAX_NUMBER_FIELDS
    ]


@st.composite
def posts(draw, form: PostForm) -> Post:
    """A post of the form: each field kept, set to the post's one junk value (a value bad for one field is most
    often bad for its neighbours too), or varied on its own; a few keys added; either encoding. The simplest post,
    where shrinking leads, is the form as the page offers it."""
    shared = draw(st.sampled_from([junk for junk in JUNK if junk is not LONG_TEXT]))  # 30 × 300 kB: seconds a post
    changes = []
    for name, field_ in form.fields.items():
        if name == "csrfmiddlewaretoken":
            continue  # sent as the page gives it: a post without it is refused by Django before any view
        how = draw(st.sampled_from(("kept", "shared", "own")), label=name)
        if how == "shared":
            changes.append((name, (shared,)))
        elif how == "own":
            changes.append((name, draw(field_values(field_), label=name)))
    extras = tuple(draw(st.lists(st.sampled_from(extra_keys(form)), unique=True, max_size=2)))
    multipart = draw(st.sampled_from([form.multipart, not form.multipart]))
    return Post(
        changes=tuple((n, v) for n, v in changes if v != tuple(form.fields[n].values)),
        extras=extras,
        multipart=multipart,
    )


def _quoted(value: object) -> bytes:
    if isinstance(value, Upload):
        value = value.name  # what a browser sends for a file in a urlencoded form
    if isinstance(value, bytes):
        return value
    return quote_plus(value.encode("utf-8", "surrogatepass")).encode()


def _header(value: str) -> bytes:
    # as a browser escapes a name or file name in a multipart header
    return value.encode("utf-8", "surrogatepass").replace(b'"', b"%22").replace(b"\r", b"%0D").replace(b"\n", b"%0A")


BOUNDARY = b"----formfuzz7MA4YWxkTrZu0gW"


def encode(pairs: list[tuple[str, object]], *, multipart: bool) -> tuple[bytes, str]:
    """The body and its content type, built by hand: the test client would refuse what cannot be UTF-8."""
    if not multipart:
        body = b"&".join(_quoted(name) + b"=" + _quoted(value) for name, value in pairs)
        return body, "application/x-www-form-urlencoded"
    parts = []
    for name, value in pairs:
        disposition = b'Content-Disposition: form-data; name="' + _header(name) + b'"'
        if isinstance(value, Upload):
            disposition += b'; filename="' + _header(value.name) + b'"\r\nContent-Type: ' + value.content_type.encode()
            content = value.content
        else:
            content = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
        parts.append(b"--" + BOUNDARY + b"\r\n" + disposition + b"\r\n\r\n" + content + b"\r\n")
    body = b"".join(parts) + b"--" + BOUNDARY + b"--\r\n"
    return body, f"multipart/form-data; boundary={BOUNDARY.decode()}"


# ---- what the database holds -------------------------------------------------------------------------------------


def watched_models() -> list:
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label not in UNWATCHED_APPS and not model._meta.proxy and model._meta.managed
    ]


# Statements that change no row (PostgreSQL's server-side cursors, for .iterator(), included): a request that ran
# only these wrote nothing, and its fingerprint is not taken.
READS = re.compile(
    r"\s*(SELECT|SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT"
    r"|DECLARE \S+ NO SCROLL CURSOR (WITH(OUT)? HOLD )?FOR SELECT)\b",
    re.IGNORECASE,
)


def fingerprint(models: list, queries: CaptureQueriesContext | None = None) -> dict[str, str] | None:
    """Each table's rows, hashed: a write anywhere changes its table's entry. Given the queries of a request that
    ran no statement but reads, None (nothing can have changed; this spares ~20 ms a post)."""
    if queries is not None and all(READS.match(q["sql"]) for q in queries.captured_queries):
        return None
    prints = {}
    for model in models:
        columns = [f.attname for f in model._meta.concrete_fields]
        rows = model._base_manager.order_by("pk").values_list(*columns)
        prints[model._meta.label] = hashlib.blake2b(repr(list(rows)).encode(), digest_size=16).hexdigest()
    return prints


def stored_files(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*")} if root.exists() else set()


# ---- a post and its judgement ------------------------------------------------------------------------------------


def invalid_form(response) -> str | None:
    """The name of a bound form (or formset) with errors the page was rendered with, if any: a refusal even where
    the page shows none of it."""
    context = getattr(response, "context_data", None) or (response.context[0].flatten() if response.context else {})
    for name, value in context.items():
        value = getattr(value, "form", value)  # the admin's AdminForm wraps the form
        if isinstance(value, BaseForm | BaseFormSet) and value.is_bound and not value.is_valid():
            return name
    return None


def refusal(response) -> str | None:
    """How the answer refuses the post, if it does."""
    if 400 <= response.status_code < 500:
        return f"answered {response.status_code}"
    # a warning refuses too: Django's lists answer "no action selected" or "items must be selected" with one
    errors = [str(m) for m in get_messages(response.wsgi_request) if m.level >= message_levels.WARNING]
    if errors:
        return f"answered {response.status_code} with the message {short(errors[0])}"
    if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
        shown = ERROR_MARKERS.search(response.content.decode(errors="replace"))
        if shown:
            return f"answered 200 showing {shown.group(1)}"
        form = invalid_form(response)
        if form:
            return f"answered 200 with the form {form!r} invalid (the page shows no error)"
    return None


def server_error(response) -> str:
    error = getattr(response, "exc_info", None)
    if not error:
        return f"answered {response.status_code}"
    frames = traceback.extract_tb(error[2])
    ours = [f for f in frames if "/.venv/" not in f.filename and "/tests/" not in f.filename]
    shown = [*ours[-1:], *[f for f in frames[-2:] if f not in ours[-1:]]]
    where = " … ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in shown)
    return f"answered {response.status_code}: {error[0].__name__}: {short(str(error[1]), 240)} at {where}"


class FuzzFailure(AssertionError):
    pass


@dataclass
class Target:
    role: str
    name: str  # the action's address name (or its path)
    form: PostForm
    key: tuple  # what makes two forms the same: role, name, operation, field names


@dataclass
class Finding:
    target: Target
    problem: str

    def __str__(self) -> str:
        t = self.target
        return f"{t.role:18} {t.name}  page {t.form.page}  action {t.form.action}\n    {self.problem}"


@dataclass
class Tally:
    posts: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    fingerprints: int = 0  # taken after a refusal that ran a statement other than a read
    fingerprint_seconds: float = 0.0


def examples(form: PostForm) -> int:
    """Posts for a form: EXAMPLES, fewer for a form with little to vary (a button that posts only the object's
    version has about a dozen distinct posts, and each post of a workbench page costs ~50 ms)."""
    fields = len([name for name in form.fields if name != "csrfmiddlewaretoken"])
    return min(EXAMPLES, 4 + 2 * fields)


def fuzz(client: Client, target: Target, media: Path, models: list, tally: Tally) -> None:
    """Post generated values to the target's form; raise FuzzFailure on a server error or a write after a refusal."""
    form = target.form
    cookies = copy.deepcopy(client.cookies)
    cookies.pop("messages", None)  # no earlier message may make a post look refused
    baseline = fingerprint(models)
    files = stored_files(media)

    @hypothesis_settings(
        max_examples=examples(form),
        derandomize=True,
        database=None,
        deadline=None,
        # a known finding is reported as it is found: shrinking it again on every run would cost seconds each
        phases=[Phase.generate] if target.name in KNOWN_FINDINGS else [Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        print_blob=False,
    )
    # each form its own sequence (derandomized alone would give every form the same), the same on every run
    @seed(int.from_bytes(hashlib.blake2b(repr(target.key).encode(), digest_size=8).digest(), "big"))
    @given(post=posts(form))
    def post_generated(post: Post):
        client.cookies = copy.deepcopy(cookies)
        body, content_type = encode(post.pairs(form), multipart=post.multipart)
        problem = None
        with transaction.atomic():
            queued = len(connection.run_on_commit)
            with CaptureQueriesContext(connection) as queries:
                response = client.post(form.action, data=body, content_type=content_type)
            tally.posts += 1
            refused = refusal(response) if response.status_code < 500 else None
            outcome = "5xx" if response.status_code >= 500 else "refused" if refused else str(response.status_code)
            tally.outcomes[outcome] = tally.outcomes.get(outcome, 0) + 1
            if response.status_code >= 500:
                problem = server_error(response)
            elif connection.needs_rollback:
                problem = f"{refused or 'answered'}, leaving the transaction broken (a database error swallowed)"
            elif refused:
                took = time.monotonic()
                after = fingerprint(models, queries)
                if after is not None:
                    tally.fingerprints += 1
                    tally.fingerprint_seconds += time.monotonic() - took
                after = after or baseline
                changed = [label for label, digest in after.items() if baseline[label] != digest]
                wrote = [f"wrote {', '.join(changed)}"] if changed else []
                if len(connection.run_on_commit) > queued:
                    wrote.append(f"queued {len(connection.run_on_commit) - queued} side effect(s) for the commit")
                if stored_files(media) != files:
                    wrote.append(f"stored {sorted(stored_files(media) - files)[:3]}")
                if wrote:
                    problem = f"{refused}, yet {'; '.join(wrote)}"
            transaction.set_rollback(True)
        if problem:
            raise FuzzFailure(f"{problem}\n    posted {post!r}")

    try:
        post_generated()
    finally:
        client.cookies = cookies
    assert fingerprint(models) == baseline, f"the posts to {form.action} were not rolled back"


# ---- the walk ----------------------------------------------------------------------------------------------------


def targets_of(visitor: Visitor, all_routes, skipped: dict[str, int]) -> list[Target]:
    """The forms of the pages the role opens, one of each kind: where the page says the action is not available
    now (a warning, as the workbench's action pages give for an object in the wrong state), one from a page that
    does not, if there is one — its posts reach the service."""
    found: dict[tuple, tuple[Target, bool]] = {}
    for _route, url in pages(visitor, all_routes):
        response = visitor.client.get(url)
        if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
            continue
        page = response.content.decode()
        if "<form" not in page:
            continue
        available = not any(m.level >= message_levels.WARNING for m in get_messages(response.wsgi_request))
        for form in forms_of(url, page):
            path = urlsplit(form.action).path
            try:
                match = resolve(path)
            except Resolver404:
                name, operation = path, ()
            else:
                name = match.view_name or match.route
                operation = tuple(sorted((k, str(v)) for k, v in match.kwargs.items() if k not in IDENTIFIERS))
            if name in SKIPPED:
                skipped[name] = skipped.get(name, 0) + 1
                continue
            key = (visitor.role, name, operation, tuple(sorted(form.fields)))
            if key not in found or (available and not found[key][1]):
                found[key] = (Target(role=visitor.role, name=name, form=form, key=key), available)
    return [target for target, _available in found.values()]


def test_every_form_of_every_page_survives_bad_input_and_writes_nothing_when_it_refuses(
    zone, private_media, settings, capsys
):
    # Given the crawl's zone, its roles and its addresses
    settings.DEBUG = False  # the project's own error pages, as in production
    crawled: Crawled = build_crawled(zone)
    all_routes = routes()
    models = watched_models()
    findings: list[Finding] = []
    pairs = 0
    skipped: dict[str, int] = {}
    tally = Tally()
    reached: set[str] = set()
    started = time.monotonic()
    # When each role posts generated values to every form of every page it opens — and so does a visitor not signed
    # in, opening the enterprise user's addresses (where it reaches the sign-in and password reset forms)
    visitors = [*crawled.roles.items(), (ANONYMOUS, crawled.roles["enterprise_user"])]
    with quiet_request_logs():
        for role, user in visitors:
            client = Client(raise_request_exception=False, enforce_csrf_checks=True)  # as a browser posts
            if role != ANONYMOUS:
                client.force_login(user)
            visitor = Visitor(role=role, user=user, crawled=crawled, client=client)
            for target in targets_of(visitor, all_routes, skipped):
                pairs += 1
                reached.add(target.name)
                try:
                    fuzz(client, target, private_media, models, tally)
                except FuzzFailure as failure:
                    findings.append(Finding(target, str(failure)))
                except Exception as error:  # Hypothesis's own (a flaky failure), or the harness's: named, not lost
                    findings.append(Finding(target, f"{type(error).__name__}: {error}"))
    with capsys.disabled():
        print(
            f"\nform fuzz: {pairs} role × form pairs, {tally.posts} posts in {time.monotonic() - started:.1f} s "
            f"({', '.join(f'{k}: {v}' for k, v in sorted(tally.outcomes.items()))}; {tally.fingerprints} database "
            f"fingerprints, {1000 * tally.fingerprint_seconds / max(tally.fingerprints, 1):.0f} ms each); "
            f"not posted: {', '.join(f'{name} ({SKIPPED[name]})' for name in sorted(skipped))}"
        )
    # Then no post fails the server, none writes after it is refused, and the fuzzer reached the forms
    known = [f for f in findings if f.target.name in KNOWN_FINDINGS]
    unknown = [f for f in findings if f not in known]
    assert not unknown, "\n".join(str(f) for f in unknown)
    assert pairs >= MIN_PAIRS, f"the fuzzer reached only {pairs} forms"
    assert tally.posts >= min(EXAMPLES, 3) * pairs, f"only {tally.posts} posts to {pairs} forms"
    assert reached >= MUST_REACH, f"forms not reached: {sorted(MUST_REACH - reached)}"
    if known:
        reasons = sorted({f"{f.target.name}: {KNOWN_FINDINGS[f.target.name]}" for f in known})
        pytest.xfail("known findings in other areas: " + "; ".join(reasons))
