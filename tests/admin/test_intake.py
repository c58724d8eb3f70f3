"""登记诉求 in the workbench: staff register a case received by phone, from the 12345 hotline or at a walk-in —
the enterprise found by name or credit code among those the person may file for, the caller's name and phone, files
checked as the portal's are; the case page shows it all and the enterprise hears of it in the portal."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import EXE, PDF, EnterpriseFactory, ProjectFactory
from tracker.models import Attachment, Case, Notification

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/tracker/case/add/"


def _form(zone, **overrides) -> dict:
    data = {
        "enterprise": zone.enterprise.pk,
        "project": "",
        "channel": Case.Channel.PHONE,
        "caller_name": "王经理",
        "caller_phone": "13812345678",
        "category": zone.category.pk,
        "urgency": Case.Urgency.URGENT,
        "title": "新厂房用电增容",
        "description": "企业来电：新厂房下月投产，需增容至 2000 千伏安。",
    }
    data.update(overrides)
    return data


def _stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def test_the_case_list_offers_registering_to_concierges_leaders_and_administrators(client, zone):
    for user in (zone.concierge, zone.leader, zone.admin):
        client.force_login(user)
        page = client.get(reverse("admin:tracker_case_changelist")).content.decode()
        assert f'href="{ADD_URL}"' in page and "登记诉求" in page, user.username
        form = client.get(ADD_URL)
        assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.content.decode(), user.username


def test_task_units_neither_see_nor_open_the_intake(client, zone):
    for user in (zone.officer, zone.member):
        client.force_login(user)
        page = client.get(reverse("admin:tracker_case_changelist")).content.decode()
        assert ADD_URL not in page, user.username
        assert client.get(ADD_URL).status_code == 403, user.username
        assert client.post(ADD_URL, _form(zone)).status_code == 403, user.username
        search = reverse("admin:tracker_case_intake_enterprises")
        params = {"app_label": "tracker", "model_name": "case", "field_name": "enterprise", "term": "精密"}
        assert client.get(search, params).status_code == 403
    assert Case.objects.count() == 0


def test_a_concierge_registers_a_phone_call_with_a_pdf(client, zone, private_media):
    # Given the concierge signed in to the workbench
    client.force_login(zone.concierge)
    # When they register the enterprise's call with a PDF the caller sent
    upload = SimpleUploadedFile("增容申请.pdf", PDF, content_type="application/pdf")
    response = client.post(ADD_URL, {**_form(zone), "files": [upload]})
    # Then the case exists, as the call was taken, and its page is shown
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("admin:tracker_case_change", args=[case.pk])
    assert (case.enterprise, case.channel, case.caller_name, case.caller_phone, case.urgency) == (
        zone.enterprise,
        Case.Channel.PHONE,
        "王经理",
        "13812345678",
        Case.Urgency.URGENT,
    )
    assert case.submitted_by == zone.concierge and case.status == Case.Status.SUBMITTED
    (attachment,) = Attachment.objects.all()
    assert attachment.case == case and attachment.staff_only is False
    # And the case page shows the channel, the caller's name and phone and the file
    page = client.get(response["Location"]).content.decode()
    assert "来电" in page and "王经理" in page and 'href="tel:13812345678"' in page and "增容申请.pdf" in page
    assert f"已登记诉求 {case.number}" in page
    # And the enterprise's user hears of it
    assert list(Notification.objects.filter(recipient=zone.enterprise_user).values_list("kind", flat=True)) == [
        Notification.Kind.CASE_FILED
    ]


def test_bad_input_is_named_on_its_fields_and_nothing_is_written(client, zone, private_media):
    client.force_login(zone.concierge)
    program = SimpleUploadedFile("合同.pdf", EXE, content_type="application/pdf")
    response = client.post(ADD_URL, {**_form(zone, caller_phone="138123", title="", channel=""), "files": [program]})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"caller_phone", "title", "channel", "files"}
    assert "请填写有效的手机号或固定电话" in errors["caller_phone"][0] and "合同.pdf" in errors["files"][0]
    # What was typed stays, and the file must be chosen again
    page = response.content.decode()
    assert "王经理" in page and "刚才选择的文件（合同.pdf）没有保存" in page
    assert Case.objects.count() == 0 and Attachment.objects.count() == 0 and _stored_files(private_media) == []
    assert Notification.objects.count() == 0


def test_only_the_three_intake_channels_are_offered(client, zone):
    client.force_login(zone.concierge)
    form = client.get(ADD_URL).context["form"]
    assert [value for value, _label in form.fields["channel"].choices] == ["phone", "hotline", "walk_in"]
    response = client.post(ADD_URL, _form(zone, channel=Case.Channel.PORTAL))
    assert "channel" in response.context["form"].errors and Case.objects.count() == 0


def test_a_concierge_cannot_register_for_an_enterprise_not_linked_to_them(client, zone):
    client.force_login(zone.concierge)
    response = client.post(ADD_URL, _form(zone, enterprise=zone.other_enterprise.pk))
    assert response.status_code == 200 and "enterprise" in response.context["form"].errors
    assert Case.objects.count() == 0


def test_the_enterprise_search_finds_by_name_or_credit_code_among_those_the_person_may_file_for(client, zone):
    search = reverse("admin:tracker_case_intake_enterprises")
    params = {"app_label": "tracker", "model_name": "case", "field_name": "enterprise"}

    def found(term):
        response = client.get(search, {**params, "term": term})
        assert response.status_code == 200
        return [item["text"] for item in response.json()["results"]]

    # A concierge finds their own enterprise by part of its name or by its credit code (typed in lower case)
    client.force_login(zone.concierge)
    mine = f"{zone.enterprise.name}（{zone.enterprise.uscc}）"
    assert found("精密") == [mine]
    assert found(zone.enterprise.uscc.lower()) == [mine]
    # but not an enterprise of another concierge
    assert found("恒远") == []
    # A leader finds any enterprise
    client.force_login(zone.leader)
    assert found("恒远") == [f"{zone.other_enterprise.name}（{zone.other_enterprise.uscc}）"]


def test_the_projects_of_the_chosen_enterprise_are_offered_and_one_can_be_chosen(client, zone):
    project = ProjectFactory(enterprise=zone.enterprise, name="新能源电池基地", concierge=zone.concierge)
    ProjectFactory(enterprise=zone.other_enterprise, name="别家的项目")
    client.force_login(zone.concierge)
    options = client.get(reverse("admin:tracker_case_intake_projects"), {"enterprise": zone.enterprise.pk}).json()
    assert options == {"results": [{"id": str(project.pk), "text": "新能源电池基地"}]}
    other = client.get(reverse("admin:tracker_case_intake_projects"), {"enterprise": zone.other_enterprise.pk})
    assert other.json() == {"results": []}
    client.post(ADD_URL, _form(zone, project=project.pk))
    assert Case.objects.get().project == project


def test_a_concierge_linked_only_to_a_project_registers_for_that_project(client, zone):
    # Given a concierge who looks after one project of an enterprise they are not linked to
    enterprise = EnterpriseFactory(name="昆山新材料有限公司")
    project = ProjectFactory(enterprise=enterprise, name="新材料二期", concierge=zone.backup)
    client.force_login(zone.backup)
    # Then without the project the registration is refused, with it it is taken
    refused = client.post(ADD_URL, _form(zone, enterprise=enterprise.pk))
    assert "enterprise" in refused.context["form"].errors and Case.objects.count() == 0
    done = client.post(ADD_URL, _form(zone, enterprise=enterprise.pk, project=project.pk))
    assert done.status_code == 302 and Case.objects.get().project == project


def test_a_walk_in_needs_the_visitors_name_and_phone(client, zone):
    client.force_login(zone.leader)
    response = client.post(ADD_URL, _form(zone, channel=Case.Channel.WALK_IN, caller_name="", caller_phone=""))
    assert set(response.context["form"].errors) == {"caller_name", "caller_phone"}
    response = client.post(ADD_URL, _form(zone, channel=Case.Channel.HOTLINE, caller_name="", caller_phone=""))
    assert response.status_code == 302 and Case.objects.get().channel == Case.Channel.HOTLINE
