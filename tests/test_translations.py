"""The English catalogue: complete, faithful to its placeholders, compiled, and what an English reader sees.

The msgids are Chinese (the UI is Chinese first and needs no catalogue of its own); tracker/locale/en holds the
English. The .po is read here with a small reader of its own, so the tests need nothing beyond the stdlib.
"""

import ast
import gettext
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from services.errors import InvalidInput
from services.register.uscc import parse_uscc
from tracker.models import Case

CATALOGUE = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES"
PO_PATH = CATALOGUE / "django.po"
MO_PATH = CATALOGUE / "django.mo"

# A %-placeholder as Python formats it: %s, %d, %(name)s, %(size).1f ... ("%%" is a literal percent sign).
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa%]")
# Chinese characters and the full-width punctuation that comes with them (，：（）、。).
CHINESE = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstrs: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    @property
    def key(self) -> str:
        """The key gettext files the entry under: the context and the msgid joined by EOT."""
        return f"{self.msgctxt}\x04{self.msgid}" if self.msgctxt is not None else self.msgid


def read_po(path: Path) -> list[Entry]:
    """Every live entry of a .po file, header first; obsolete (#~) entries are left out."""
    entries: list[Entry] = []
    entry = Entry()
    target: tuple[str, int | None] | None = None
    seen_keyword = False

    def finish():
        nonlocal entry, seen_keyword, target
        if seen_keyword:
            entries.append(entry)
        entry, seen_keyword, target = Entry(), False, None

    def append(text: str) -> None:
        name, index = target
        if name == "msgstr":
            entry.msgstrs[index] = entry.msgstrs.get(index, "") + text
        else:
            setattr(entry, name, (getattr(entry, name) or "") + text)

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            finish()
        elif line.startswith("#,"):
            if seen_keyword:
                finish()
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            if seen_keyword:
                finish()
        elif line.startswith('"'):
            append(ast.literal_eval(line))
        else:
            keyword, _, rest = line.partition(" ")
            match = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
            if keyword in ("msgid", "msgctxt") and seen_keyword and target[0] == "msgstr":
                finish()
            if match:
                target = ("msgstr", int(match.group(1)))
            elif keyword == "msgstr":
                target = ("msgstr", 0)
            elif keyword in ("msgid", "msgid_plural", "msgctxt"):
                target = (keyword, None)
            else:
                raise ValueError(f"{path}: cannot read {raw!r}")
            seen_keyword = True
            append(ast.literal_eval(rest))
    finish()
    return entries


def expected_catalogue(entries: list[Entry]) -> dict:
    """The catalogue a correct .mo for these entries holds, keyed the way gettext.GNUTranslations keys it."""
    catalogue = {}
    for entry in entries[1:]:
        if entry.msgid_plural is None:
            catalogue[entry.key] = entry.msgstrs[0]
        else:
            for index, text in entry.msgstrs.items():
                catalogue[(entry.key, index)] = text
    return catalogue


def mo_catalogue(path: Path) -> dict:
    with path.open("rb") as file:
        catalogue = dict(gettext.GNUTranslations(file)._catalog)
    catalogue.pop("", None)  # the header
    return catalogue


def placeholders(text: str) -> set[str]:
    return {token for token in PLACEHOLDER.findall(text) if token != "%%"}


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    return read_po(PO_PATH)


@pytest.fixture(autouse=True)
def _language_restored():
    """A request through LocaleMiddleware leaves its language active in the thread; later tests expect Chinese."""
    with translation.override(settings.LANGUAGE_CODE):
        yield


# The catalogue file ---------------------------------------------------------------------------------------


def test_the_catalogue_is_for_english_with_english_plurals(entries):
    header = entries[0]
    assert header.msgid == ""
    assert "fuzzy" not in header.flags  # a fuzzy header is dropped by msgfmt, and Plural-Forms with it
    assert "Language: en\n" in header.msgstrs[0]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);\n" in header.msgstrs[0]
    assert len(entries) > 400  # the whole UI, not a handful


def test_every_entry_is_translated_and_none_is_fuzzy(entries):
    untranslated = [entry.msgid for entry in entries[1:] if not all(entry.msgstrs.values())]
    fuzzy = [entry.msgid for entry in entries[1:] if "fuzzy" in entry.flags]
    assert untranslated == []
    assert fuzzy == []  # a fuzzy entry is ignored at run time: the reader would see Chinese
    plural = [entry for entry in entries if entry.msgid_plural is not None]
    assert all(sorted(entry.msgstrs) == [0, 1] for entry in plural)  # English has two forms: one, and the rest


def test_every_translation_keeps_the_placeholders_of_its_source(entries):
    mismatched = [
        (entry.msgid, text)
        for entry in entries[1:]
        for index, text in entry.msgstrs.items()
        if placeholders(text) != placeholders(entry.msgid_plural if index and entry.msgid_plural else entry.msgid)
    ]
    assert mismatched == []


def test_no_chinese_is_left_in_the_english(entries):
    left = [(entry.msgid, text) for entry in entries[1:] for text in entry.msgstrs.values() if CHINESE.search(text)]
    assert left == []


def test_the_compiled_catalogue_holds_exactly_the_po(entries):
    assert mo_catalogue(MO_PATH) == expected_catalogue(entries), "run `make messages` to recompile the .mo"


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext (msgfmt) is not installed")
def test_msgfmt_accepts_the_po_and_compiles_what_is_committed(tmp_path):
    # Given the .po compiled afresh by GNU msgfmt, which also checks the python-format strings
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(fresh), str(PO_PATH)], check=True, capture_output=True)
    # Then the committed .mo holds the same catalogue
    assert mo_catalogue(MO_PATH) == mo_catalogue(fresh)


# What an English reader sees ------------------------------------------------------------------------------


def test_model_names_and_choices_read_in_english_and_stay_chinese_by_default():
    with translation.override("en"):
        assert str(Case._meta.verbose_name) == "Case"
        assert Case.Status.SUBMITTED.label == "Awaiting acceptance"
    assert str(Case._meta.verbose_name) == "诉求"


def test_a_service_error_reads_in_english():
    with translation.override("en"), pytest.raises(InvalidInput) as raised:
        parse_uscc("91320583")
    assert raised.value.message == "A unified social credit code has 18 characters; this one has 8"
    assert raised.value.fields == {"uscc": [raised.value.message]}


@pytest.mark.django_db
def test_the_workbench_is_chinese_by_default(client, zone):
    # Given a concierge with no language chosen
    client.force_login(zone.concierge)
    # When they open the case list
    page = client.get("/admin/tracker/case/").content.decode()
    # Then it is in Chinese
    assert "我的诉求" in page
    assert "My cases" not in page


@pytest.mark.django_db
def test_the_language_cookie_turns_the_workbench_english(client, zone):
    # Given a concierge whose language cookie says English
    client.force_login(zone.concierge)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    # When they open the case list
    response = client.get("/admin/tracker/case/")
    page = response.content.decode()
    # Then the workbench, the queue filter and the search help are English, and the Chinese labels are gone
    assert response.status_code == 200
    assert '<html lang="en"' in page
    assert "My cases" in page
    assert "Linked to me" in page
    assert "Search by case number, title, enterprise name or unified social credit code" in page
    assert "我的诉求" not in page
    assert "我挂钩的" not in page


@pytest.mark.django_db
def test_the_language_switch_in_the_header_turns_the_workbench_english(client, zone):
    # Given a concierge on the Chinese workbench
    client.force_login(zone.concierge)
    # When they choose English in the header's language switch
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/admin/tracker/case/?queue=mine"}, follow=True)
    # Then they land back on their queue, in English
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == "/admin/tracker/case/?queue=mine"
    assert "My cases" in page
    assert "我的诉求" not in page
