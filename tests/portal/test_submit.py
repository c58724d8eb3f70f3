"""Submitting a case from the portal, with files: all or nothing, every refusal named on its field."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import ProjectFactory
from tests.portal.conftest import PDF_BYTES, html, messages_of, pdf
from tracker.models import Attachment, Case, CaseEvent

pytestmark = pytest.mark.django_db

URL = "/portal/cases/new/"


def _form(zone, **overrides) -> dict:
    data = {
        "category": zone.category.pk,
        "title": "新厂房用电增容",
        "description": "新厂房下月投产，需要增容到 2000 千伏安。",
        "urgency": "normal",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def _stored_files(root) -> list:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def test_the_form_offers_the_categories(portal, zone):
    response = portal.get(URL)
    assert response.status_code == 200
    assert "用地空间" in html(response) and 'name="title"' in html(response)
    # An enterprise without projects is not asked about one
    assert 'name="project"' not in html(response)


def test_submit_with_a_pdf(portal, zone, private_media):
    # When the enterprise submits a case with a PDF attached
    response = portal.post(URL, {**_form(zone), "files": [pdf("厂房图纸.pdf")]})
    # Then it lands on the new case's page, told the number and by when it will be accepted
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/portal/cases/{case.number}/"
    page = portal.get(response["Location"])
    assert any(case.number in m and "前受理" in m for m in messages_of(page))
    # And the case came in through the portal, for this enterprise, with the file stored privately
    assert case.channel == Case.Channel.PORTAL and case.enterprise == zone.enterprise
    assert case.submitted_by == zone.enterprise_user and case.status == Case.Status.SUBMITTED
    attachment = case.attachments.get()
    assert attachment.original_name == "厂房图纸.pdf" and attachment.content_type == "application/pdf"
    assert [path.read_bytes() for path in _stored_files(private_media)] == [PDF_BYTES]
    assert "厂房图纸.pdf" in html(page)


def test_submit_without_files(portal, zone):
    response = portal.post(URL, _form(zone, urgency="urgent"))
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.urgency == Case.Urgency.URGENT and case.attachments.count() == 0


def test_missing_title_description_and_category_are_each_named(portal, zone):
    # When the form is sent with nothing but blanks
    response = portal.post(URL, _form(zone, category=None, title="  ", description=""))
    # Then the page comes back with an error on each missing field, and nothing is created
    assert response.status_code == 400
    assert {"category", "title", "description"} <= set(response.context["form"].errors)
    assert "提交的内容有误" in html(response) and 'data-field="category"' in html(response)
    assert Case.objects.count() == 0 and CaseEvent.objects.count() == 0


@pytest.mark.parametrize(
    "upload",
    [
        SimpleUploadedFile("setup.exe", b"MZ\x90\x00" + b"\x00" * 60, content_type="application/octet-stream"),
        SimpleUploadedFile("合同.pdf", b"this is plain text, not a PDF", content_type="application/pdf"),
    ],
    ids=["exe", "fake-pdf"],
)
def test_a_bad_file_refuses_the_whole_submission_and_keeps_what_was_typed(portal, zone, private_media, upload):
    # When a case is sent with one good PDF and one file that is not acceptable
    response = portal.post(URL, {**_form(zone), "files": [pdf("图纸.pdf"), upload]})
    # Then nothing is created, not even the good file
    assert response.status_code == 400
    assert Case.objects.count() == 0 and Attachment.objects.count() == 0 and _stored_files(private_media) == []
    # And the error names the bad file, under the files field
    assert any(upload.name in error for error in response.context["form"].errors["files"])
    # And the page keeps the title and description and lists the files to select again
    page = html(response)
    assert 'value="新厂房用电增容"' in page and "新厂房下月投产" in page
    assert "请重新选择" in page and f"图纸.pdf、{upload.name}" in page


def test_too_many_files_are_refused(portal, zone, private_media, settings):
    settings.ATTACHMENT_MAX_PER_CASE = 2
    response = portal.post(URL, {**_form(zone), "files": [pdf("1.pdf"), pdf("2.pdf"), pdf("3.pdf")]})
    assert response.status_code == 400
    assert "每个诉求最多上传2个附件" in response.context["form"].errors["files"]
    assert Case.objects.count() == 0 and _stored_files(private_media) == []


def test_the_enterprises_own_project_is_accepted(portal, zone):
    project = ProjectFactory(enterprise=zone.enterprise, name="二期厂房项目")
    assert "二期厂房项目" in html(portal.get(URL))
    response = portal.post(URL, _form(zone, project=project.pk))
    assert response.status_code == 302
    assert Case.objects.get().project == project


def test_a_project_of_another_enterprise_is_refused(portal, zone):
    # Given an own project (so the field is offered) and another enterprise's project
    ProjectFactory(enterprise=zone.enterprise, name="二期厂房项目")
    theirs = ProjectFactory(enterprise=zone.other_enterprise, name="别家的项目")
    # Then the other's project is not offered, and sending its id is refused on the project field
    assert "别家的项目" not in html(portal.get(URL))
    response = portal.post(URL, _form(zone, project=theirs.pk))
    assert response.status_code == 400 and "project" in response.context["form"].errors
    assert Case.objects.count() == 0


def test_an_empty_post_names_every_missing_field(portal, zone):
    response = portal.post(URL, {})
    assert response.status_code == 400
    assert {"category", "title", "description"} <= set(response.context["form"].errors)
    assert Case.objects.count() == 0


def test_a_file_over_the_size_limit_is_refused(portal, zone, private_media, settings):
    settings.ATTACHMENT_MAX_BYTES = 2**20
    big = pdf("扫描件.pdf", PDF_BYTES + b"0" * 2**20)
    response = portal.post(URL, {**_form(zone), "files": [big]})
    assert response.status_code == 400
    assert any("文件过大：扫描件.pdf" in error for error in response.context["form"].errors["files"])
    assert Case.objects.count() == 0 and _stored_files(private_media) == []


def test_urgency_left_out_means_normal(portal, zone):
    assert portal.post(URL, _form(zone, urgency=None)).status_code == 302
    assert Case.objects.get().urgency == Case.Urgency.NORMAL
