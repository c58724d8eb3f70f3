"""A category's limits and 督办 thresholds in the workbench: the object page and the list's editable columns save
through services.register.reference (which checks and records each change), a refusal shows on the field it names and
keeps nothing, the category's page lists its changes, and the change records are read-only."""

import pytest
from django.urls import reverse

from services.errors import InvalidInput, NotPermitted
from services.register import reference
from tracker.models import Category, ReferenceChange

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def defaults(settings):
    settings.REMINDER_YELLOW_AFTER_DAYS = 2
    settings.REMINDER_RED_AFTER_DAYS = 5
    settings.REMINDER_ACCEPT_ESCALATE_AFTER_DAYS = 2


def change_url(category) -> str:
    return reverse("admin:tracker_category_change", args=[category.pk])


def form_data(category, **changes) -> dict:
    """The category's page as it comes, with `changes` typed in."""
    data = {
        "code": category.code,
        "name": category.name,
        "description": category.description,
        "sort_order": category.sort_order,
        "is_active": "on",
        "accept_days": category.accept_days,
        "task_days": category.task_days,
        "verdict_days": category.verdict_days,
        "yellow_after_days": category.yellow_after_days or "",
        "red_after_days": category.red_after_days or "",
        "accept_escalate_after_days": category.accept_escalate_after_days or "",
        "_save": "保存",
    }
    return {**data, **changes}


def list_data(category, **changes) -> dict:
    """The category list's editable columns as they come for `category`, with `changes` typed in its row."""
    row = {"id": category.pk, "accept_days": category.accept_days, "task_days": category.task_days}
    row["verdict_days"] = category.verdict_days
    row.update(changes)
    data = {"form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "1", "form-MIN_NUM_FORMS": "0", "form-MAX_NUM_FORMS": ""}
    data.update({f"form-0-{name}": value for name, value in row.items()})
    return {**data, "_save": "保存"}


def limits(category) -> tuple:
    fresh = Category.objects.get(pk=category.pk)
    return (
        fresh.name,
        fresh.accept_days,
        fresh.task_days,
        fresh.verdict_days,
        fresh.yellow_after_days,
        fresh.red_after_days,
        fresh.accept_escalate_after_days,
    )


AS_SEEDED = ("用地空间", 1, 10, 5, None, None, None)


# The object page --------------------------------------------------------------------------------------------------


def test_the_page_shows_the_thresholds_with_the_defaults_of_today(client, zone, settings):
    # Given the zone's defaults changed by the operator: yellow after 3, red after 6, escalation after 1
    settings.REMINDER_YELLOW_AFTER_DAYS, settings.REMINDER_RED_AFTER_DAYS = 3, 6
    settings.REMINDER_ACCEPT_ESCALATE_AFTER_DAYS = 1
    # When an administrator opens the category
    client.force_login(zone.admin)
    page = client.get(change_url(zone.category)).content.decode()
    # Then its three thresholds are there, each saying what an empty box means today
    for name in ("yellow_after_days", "red_after_days", "accept_escalate_after_days"):
        assert f'name="{name}"' in page
    assert "报责任部门负责人（黄牌督办）。留空则用系统默认：3 个工作日" in page
    assert "须晚于黄牌。留空则用系统默认：6 个工作日" in page
    assert "报挂钩领导。留空则用系统默认：1 个工作日" in page
    # And the boxes offer the numbers the service accepts
    assert 'min="1"' in page and 'max="60"' in page
    # And no change yet
    assert "暂无记录" in page


def test_an_administrator_changes_the_limits_and_the_page_lists_who_changed_what(client, zone):
    client.force_login(zone.admin)
    # When the administrator gives tasks 12 days, the yellow card after 3, and leaves red empty (the default 5)
    response = client.post(change_url(zone.category), form_data(zone.category, task_days=12, yellow_after_days=3))
    # Then it is saved, with one record per changed field, by them
    assert response.status_code == 302
    assert limits(zone.category) == ("用地空间", 1, 12, 5, 3, None, None)
    rows = ReferenceChange.objects.order_by("id")
    assert [(r.field, r.old_value, r.new_value, r.actor_id) for r in rows] == [
        ("task_days", "10 个工作日", "12 个工作日", zone.admin.pk),
        ("yellow_after_days", "系统默认（2 个工作日）", "3 个工作日", zone.admin.pk),
    ]
    # And the category's page shows the changes, newest first
    page = client.get(change_url(zone.category)).content.decode()
    history = page[page.index("limit-changes") :]
    assert "管理员 将“黄牌督办（逾期工作日）”由 系统默认（2 个工作日） 改为 3 个工作日" in history
    assert "管理员 将“办理时限（工作日）”由 10 个工作日 改为 12 个工作日" in history
    assert history.index("黄牌督办") < history.index("办理时限")


def test_leaders_read_the_changes_and_concierges_do_not(client, zone):
    reference.change_category_limits(actor=zone.admin, category=zone.category, red_after_days=7)
    client.force_login(zone.leader)
    page = client.get(change_url(zone.category)).content.decode()
    assert "由 系统默认（5 个工作日） 改为 7 个工作日" in page
    assert 'name="_save"' not in page  # reads, does not edit
    client.force_login(zone.concierge)
    page = client.get(change_url(zone.category)).content.decode()
    assert "limit-changes" not in page and "改为 7 个工作日" not in page


@pytest.mark.parametrize(
    ("typed", "field", "message"),
    [
        # red left empty is the default 5: a yellow card after 6 would come after the red one
        ({"yellow_after_days": "6"}, "yellow_after_days", "红牌督办应晚于黄牌督办"),
        ({"yellow_after_days": "4", "red_after_days": "4"}, "red_after_days", "红牌督办应晚于黄牌督办"),
        ({"task_days": "0"}, "task_days", "请填写 1 至 60 之间的整数"),
        ({"accept_escalate_after_days": "61"}, "accept_escalate_after_days", "请填写 1 至 60 之间的整数"),
        ({"verdict_days": ""}, "verdict_days", "该字段是必填项"),
        ({"red_after_days": "abc"}, "red_after_days", "输入整数"),
        ({"accept_days": str(10**40)}, "accept_days", "请填写 1 至 60 之间的整数"),
    ],
)
def test_a_refused_page_names_the_field_and_keeps_nothing(client, zone, typed, field, message):
    client.force_login(zone.admin)
    # When the administrator saves a bad value, with a new name typed beside it
    response = client.post(change_url(zone.category), form_data(zone.category, name="用地与空间", **typed))
    # Then the page comes back with the error on that field, and nothing was kept, nor recorded
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == [field]
    assert message in " ".join(errors[field])
    assert message in response.content.decode()
    assert limits(zone.category) == AS_SEEDED
    assert not ReferenceChange.objects.exists()


def test_a_refusal_at_saving_time_shows_on_its_field_and_keeps_nothing(client, zone, monkeypatch):
    # Given another administrator's change lands between the page's check and the save: the service refuses
    def refuse(**kwargs):
        raise InvalidInput("提交的内容有误", fields={"red_after_days": "红牌督办应晚于黄牌督办（刚被修改）"})

    monkeypatch.setattr(reference, "change_category_limits", refuse)
    client.force_login(zone.admin)
    # When the administrator saves a new name and limits
    response = client.post(change_url(zone.category), form_data(zone.category, name="用地与空间", red_after_days=4))
    # Then the page comes back with the refusal on the field it names; the new name was not kept either
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"red_after_days": ["红牌督办应晚于黄牌督办（刚被修改）"]}
    assert limits(zone.category) == AS_SEEDED
    assert not ReferenceChange.objects.exists()


def test_the_page_writes_no_limit_itself(client, zone, monkeypatch):
    # Given the service replaced by one that only notes what it is asked
    asked = []

    def note(**kwargs):
        asked.append(kwargs)
        return Category.objects.get(pk=kwargs["category"])

    monkeypatch.setattr(reference, "change_category_limits", note)
    client.force_login(zone.admin)
    # When the administrator saves new limits and a new name
    typed = form_data(zone.category, name="用地与空间", task_days=12, yellow_after_days=3)
    assert client.post(change_url(zone.category), typed).status_code == 302
    # Then the limits went to the service, all six, and nothing else wrote them; the name is saved as before
    assert asked == [
        {
            "actor": zone.admin,
            "category": zone.category.pk,
            "accept_days": 1,
            "task_days": 12,
            "verdict_days": 5,
            "yellow_after_days": 3,
            "red_after_days": None,
            "accept_escalate_after_days": None,
        }
    ]
    assert limits(zone.category) == ("用地与空间", 1, 10, 5, None, None, None)


def test_a_new_category_gets_its_limits_through_the_service(client, zone):
    client.force_login(zone.admin)
    data = form_data(Category(code="finance", name="融资服务"), task_days=20, red_after_days=8)
    response = client.post(reverse("admin:tracker_category_add"), data)
    assert response.status_code == 302
    category = Category.objects.get(code="finance")
    assert (category.task_days, category.red_after_days) == (20, 8)
    # (recorded against the model's defaults it was created with)
    assert set(reference.category_changes(category).values_list("field", "new_value")) == {
        ("task_days", "20 个工作日"),
        ("red_after_days", "8 个工作日"),
    }


def test_only_administrators_save_the_page(client, zone):
    for user in (zone.concierge, zone.leader, zone.officer):
        client.force_login(user)
        assert client.post(change_url(zone.category), form_data(zone.category, task_days=3)).status_code == 403
    assert limits(zone.category) == AS_SEEDED


# The list's editable columns ----------------------------------------------------------------------------------------


def test_the_list_saves_its_columns_through_the_service(client, zone):
    client.force_login(zone.admin)
    url = reverse("admin:tracker_category_changelist")
    # Given the list shows each category's thresholds as they apply
    page = client.get(url).content.decode()
    assert "黄牌 2（默认） · 红牌 5（默认） · 未受理 2（默认）" in page
    # When the administrator types 12 in the row's 办理时限
    response = client.post(url, list_data(zone.category, task_days=12))
    # Then it is saved and recorded
    assert response.status_code == 302
    assert limits(zone.category) == ("用地空间", 1, 12, 5, None, None, None)
    row = ReferenceChange.objects.get()
    assert (row.field, row.old_value, row.new_value, row.actor_id) == (
        "task_days",
        "10 个工作日",
        "12 个工作日",
        zone.admin.pk,
    )


@pytest.mark.parametrize("typed", ["0", "61", "abc"])
def test_a_refused_list_row_names_its_column_and_keeps_nothing(client, zone, typed):
    message = "输入整数。" if typed == "abc" else "请填写 1 至 60 之间的整数"
    client.force_login(zone.admin)
    response = client.post(reverse("admin:tracker_category_changelist"), list_data(zone.category, verdict_days=typed))
    assert response.status_code == 200
    (form,) = response.context["cl"].formset.forms
    assert form.errors == {"verdict_days": [message]}
    assert message in response.content.decode()
    assert limits(zone.category) == AS_SEEDED
    assert not ReferenceChange.objects.exists()


def test_a_list_row_refused_at_saving_time_shows_why_and_keeps_nothing(client, zone, monkeypatch):
    def refuse(**kwargs):
        raise NotPermitted("只有系统管理员可以修改类别的时限和督办规则")

    monkeypatch.setattr(reference, "change_category_limits", refuse)
    client.force_login(zone.admin)
    response = client.post(reverse("admin:tracker_category_changelist"), list_data(zone.category, task_days=12))
    assert response.status_code == 200
    assert "只有系统管理员可以修改类别的时限和督办规则" in response.content.decode()
    assert limits(zone.category) == AS_SEEDED


def test_the_list_writes_no_limit_itself(client, zone, monkeypatch):
    asked = []

    def note(**kwargs):
        asked.append(kwargs)
        return Category.objects.get(pk=kwargs["category"])

    monkeypatch.setattr(reference, "change_category_limits", note)
    client.force_login(zone.admin)
    assert (
        client.post(reverse("admin:tracker_category_changelist"), list_data(zone.category, task_days=12)).status_code
        == 302
    )
    assert asked == [
        {"actor": zone.admin, "category": zone.category.pk, "accept_days": 1, "task_days": 12, "verdict_days": 5}
    ]
    assert limits(zone.category) == AS_SEEDED


# The change records (设置变更记录) ------------------------------------------------------------------------------------


def test_the_change_records_are_read_only_for_everyone(client, zone):
    reference.change_category_limits(actor=zone.admin, category=zone.category, yellow_after_days=3)
    record = ReferenceChange.objects.get()
    client.force_login(zone.admin)
    # An administrator finds them in the menu and the list
    menu = client.get(reverse("admin:index") + "?all=1").content.decode()
    assert reverse("admin:tracker_referencechange_changelist") in menu
    listed = client.get(reverse("admin:tracker_referencechange_changelist")).content.decode()
    assert "系统默认（2 个工作日） → 3 个工作日" in listed
    assert change_url(zone.category) in listed
    # And opens one, with nothing to save
    page = client.get(reverse("admin:tracker_referencechange_change", args=[record.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    # But nobody adds, changes or deletes one
    for user in (zone.admin, zone.leader):
        client.force_login(user)
        assert client.get(reverse("admin:tracker_referencechange_add")).status_code == 403
        change = reverse("admin:tracker_referencechange_change", args=[record.pk])
        assert client.post(change, {"old_value": "x", "new_value": "y"}).status_code == 403
        delete = reverse("admin:tracker_referencechange_delete", args=[record.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
    assert ReferenceChange.objects.get().new_value == "3 个工作日"
    # A leader reads a record; a concierge does not
    client.force_login(zone.leader)
    assert client.get(reverse("admin:tracker_referencechange_change", args=[record.pk])).status_code == 200
    client.force_login(zone.concierge)
    assert client.get(reverse("admin:tracker_referencechange_change", args=[record.pk])).status_code in (302, 403)
