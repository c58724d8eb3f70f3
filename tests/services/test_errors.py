"""The service errors (services/errors.py) and how bad input is refused: every field named at once, nothing written."""

import json

import pytest
from django.utils.translation import gettext_lazy

from services.cases import steps as case_services
from services.errors import (
    Conflict,
    IdempotencyKeyReused,
    IllegalTransition,
    InvalidInput,
    NotFound,
    NotPermitted,
    PreconditionFailed,
    ServiceError,
    StaleVersion,
    TooManyRequests,
)
from tests.factories import CategoryFactory, ProjectFactory
from tracker.models import Case, CaseEvent, CaseNumberSequence


def _subclasses(cls) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_subclasses(sub)}
    return found


EXAMPLES = {
    InvalidInput: (InvalidInput("提交的内容有误", fields={"title": "此项不能为空"}), 400),
    NotPermitted: (NotPermitted("您无权对此诉求执行该操作"), 403),
    NotFound: (NotFound(), 404),
    Conflict: (Conflict("已登记", fields={"uscc": ["已登记"]}), 409),
    IllegalTransition: (IllegalTransition("当前状态下不能执行此操作", current="closed", allowed=["b", "a"]), 409),
    StaleVersion: (StaleVersion("已被他人修改", current_version=7), 409),
    PreconditionFailed: (PreconditionFailed("If-Match 与当前版本不符", current_version=7), 412),
    IdempotencyKeyReused: (IdempotencyKeyReused("幂等键已用于另一个请求"), 409),
    TooManyRequests: (TooManyRequests("请求过于频繁，请 60 分钟后再试", retry_minutes=60), 429),
}


def test_every_service_error_has_an_example_here():
    # Given the error hierarchy, When a new error class is added, Then this suite must say how it maps
    assert _subclasses(ServiceError) == set(EXAMPLES)


@pytest.mark.parametrize("cls", EXAMPLES, ids=lambda cls: cls.__name__)
def test_every_error_maps_to_code_message_fields_and_its_status(cls):
    # Given an error as a service raises it
    error, status = EXAMPLES[cls]
    # When an interface renders it
    rendered = error.as_dict()
    # Then it has the code, a message and the fields (each a list of messages), as JSON, with the right status
    assert {"code", "message", "fields"} <= set(rendered)
    assert rendered["code"] == cls.code and rendered["code"] != ServiceError.code
    assert isinstance(rendered["message"], str) and rendered["message"]
    assert all(isinstance(messages, list) for messages in rendered["fields"].values())
    assert json.loads(json.dumps(rendered)) == rendered
    assert error.http_status == status


def test_codes_are_distinct():
    assert len({cls.code for cls in EXAMPLES}) == len(EXAMPLES)


def test_an_illegal_transition_lists_the_allowed_moves_sorted():
    error, _ = EXAMPLES[IllegalTransition]
    assert error.as_dict() == {
        "code": "illegal_transition",
        "message": "当前状态下不能执行此操作",
        "fields": {},
        "current": "closed",
        "allowed": ["a", "b"],
    }


def test_a_stale_version_carries_the_current_version():
    error, _ = EXAMPLES[StaleVersion]
    assert error.as_dict()["current_version"] == 7


def test_a_field_error_keeps_a_single_message_as_a_list():
    error = InvalidInput.field("title", "此项不能为空")
    assert error.as_dict()["fields"] == {"title": ["此项不能为空"]}


def test_not_found_has_a_default_message_that_says_nothing_about_existence():
    assert NotFound().message == "对象不存在或无权查看"


def test_a_lazily_translated_field_message_stays_whole():
    # Given a field message translated lazily
    error = InvalidInput.field("title", gettext_lazy("此项不能为空"))
    # When it is rendered, Then the field has that one message, as JSON
    assert json.loads(json.dumps(error.as_dict()))["fields"] == {"title": ["此项不能为空"]}


def test_submit_with_empty_title_and_description_names_both_and_writes_nothing(zone):
    # Given an enterprise user
    counts = (Case.objects.count(), CaseEvent.objects.count(), CaseNumberSequence.objects.count())
    # When it submits a case with an empty title and a blank description
    with pytest.raises(InvalidInput) as refused:
        case_services.submit_case(
            actor=zone.enterprise_user, enterprise=zone.enterprise, category=zone.category, title="", description="  "
        )
    # Then both fields are named at once, as a 400
    assert set(refused.value.fields) == {"title", "description"}
    assert refused.value.http_status == 400
    # And nothing was written, not even a case number
    assert (Case.objects.count(), CaseEvent.objects.count(), CaseNumberSequence.objects.count()) == counts
    case = case_services.submit_case(
        actor=zone.enterprise_user, enterprise=zone.enterprise, category=zone.category, title="用地", description="用地"
    )
    assert case.number.endswith("-000001")


def test_submit_names_every_bad_field_at_once(zone):
    # Given an inactive category, a title too long, an unknown urgency and another enterprise's project
    retired = CategoryFactory(code="retired", is_active=False)
    foreign = ProjectFactory(enterprise=zone.other_enterprise)
    # When the enterprise submits
    with pytest.raises(InvalidInput) as refused:
        case_services.submit_case(
            actor=zone.enterprise_user,
            enterprise=zone.enterprise,
            category=retired,
            title="长" * 201,
            description="说明",
            urgency="whenever",
            project=foreign,
        )
    # Then each is named, and no case is opened
    assert set(refused.value.fields) == {"category", "title", "urgency", "project"}
    assert not Case.objects.exists()
