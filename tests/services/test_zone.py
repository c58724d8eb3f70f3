"""The zone's register (services/register/zone.py): enterprises keyed by credit code, projects, linked staff."""

from decimal import Decimal

import pytest

from services.errors import Conflict, InvalidInput, NotPermitted
from services.register.zone import register_enterprise, register_project
from tests.factories import TierFactory
from tracker.models import Enterprise, Project
from tracker.models.zone import Industry

VALID = "91350100M000100Y43"
BAD_CHECK = "91350100M000100Y44"


def _register(zone, actor=None, **kwargs):
    values = {
        "name": "昆山新材料科技有限公司",
        "uscc": VALID,
        "industry": Industry.GREEN_ECONOMY,
        "concierge": zone.concierge,
        "backup_concierge": zone.backup,
        "linked_leader": zone.leader,
    } | kwargs
    return register_enterprise(actor=actor or zone.admin, **values)


@pytest.mark.parametrize("who", ["admin", "leader"])
def test_an_administrator_or_leader_registers_a_key_enterprise(zone, who):
    # Given an administrator or a leader
    # When they register an enterprise with its credit code, tiers and linked staff
    tier = TierFactory(code="gazelle", name="瞪羚")
    enterprise = _register(zone, actor=getattr(zone, who), tiers=[tier], park="  昆山高新区 ")
    # Then it is on the register as given, its checksum good, and its concierge sees it
    enterprise.refresh_from_db()
    assert (enterprise.uscc, enterprise.uscc_checksum_ok, enterprise.park) == (VALID, True, "昆山高新区")
    assert (enterprise.concierge, enterprise.backup_concierge, enterprise.linked_leader) == (
        zone.concierge,
        zone.backup,
        zone.leader,
    )
    assert list(enterprise.tiers.all()) == [tier]


def test_a_lower_case_code_is_stored_normalised(zone):
    enterprise = _register(zone, uscc=" " + VALID.lower())
    assert enterprise.uscc == VALID


def test_a_code_failing_its_checksum_is_registered_flagged(zone):
    # Given a well-formed code whose check character is wrong
    # When it is registered
    enterprise = _register(zone, uscc=BAD_CHECK)
    # Then it is kept, flagged so that staff check it
    enterprise.refresh_from_db()
    assert (enterprise.uscc, enterprise.uscc_checksum_ok) == (BAD_CHECK, False)


@pytest.mark.parametrize("uscc", ["", "91350100M000100Y4", "91350100O000100Y43"])
def test_a_malformed_code_is_refused_naming_the_field_and_nothing_is_written(zone, uscc):
    # Given an empty, short, or forbidden-letter code
    count = Enterprise.objects.count()
    # When it is registered
    with pytest.raises(InvalidInput) as refused:
        _register(zone, uscc=uscc)
    # Then the uscc field is named and the register is unchanged
    assert list(refused.value.fields) == ["uscc"]
    assert Enterprise.objects.count() == count


def test_every_bad_field_is_named_at_once(zone):
    # Given a registration with no name, a short code and an enterprise user as concierge
    # When it is submitted
    with pytest.raises(InvalidInput) as refused:
        _register(zone, name=" ", uscc="123", concierge=zone.enterprise_user)
    # Then all three fields are named together
    assert set(refused.value.fields) == {"name", "uscc", "concierge"}


def test_an_unknown_industry_is_named_as_a_field_error(zone):
    # Given a registration whose industry is not one of the seven
    # When it is submitted
    with pytest.raises(InvalidInput) as refused:
        _register(zone, industry="mining")
    # Then the industry field is named, listing the choices, and nothing is written
    assert set(refused.value.fields) == {"industry"}
    assert "电子信息" in refused.value.fields["industry"][0]
    assert not Enterprise.objects.filter(uscc=VALID).exists()


def test_the_backup_must_differ_from_the_concierge(zone):
    with pytest.raises(InvalidInput) as refused:
        _register(zone, backup_concierge=zone.concierge)
    assert set(refused.value.fields) == {"backup_concierge"}


@pytest.mark.parametrize("again", [VALID, VALID.lower()])
def test_a_code_already_registered_is_a_conflict(zone, again):
    # Given an enterprise registered with a code
    _register(zone)
    count = Enterprise.objects.count()
    # When the same code is registered again (in any case)
    with pytest.raises(Conflict) as refused:
        _register(zone, name="另一家公司", uscc=again)
    # Then it is a 409 naming the code, and nothing is written
    assert refused.value.http_status == 409 and "uscc" in refused.value.fields
    assert Enterprise.objects.count() == count


@pytest.mark.parametrize("who", ["concierge", "officer", "enterprise_user", "integration"])
def test_others_cannot_register_enterprises(zone, who):
    with pytest.raises(NotPermitted):
        _register(zone, actor=getattr(zone, who))
    assert not Enterprise.objects.filter(uscc=VALID).exists()


def test_a_project_takes_the_enterprises_linked_staff_by_default(zone):
    # Given a key enterprise with a concierge and a linked leader
    # When an administrator registers a project without naming staff
    project = register_project(
        actor=zone.admin,
        enterprise=zone.enterprise,
        name="新厂房扩建项目",
        total_investment="52000.456",
        stage="started",
        level="kunshan",
    )
    # Then it is linked to the enterprise's concierge and leader, its investment in 万元 to the fen
    assert (project.concierge, project.linked_leader) == (zone.concierge, zone.leader)
    assert project.total_investment == Decimal("52000.46")


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"total_investment": "-1"}, {"total_investment"}),
        ({"total_investment": "abc"}, {"total_investment"}),
        ({"total_investment": "NaN"}, {"total_investment"}),
        ({"stage": "dreaming"}, {"stage"}),
        ({"stage": "", "level": ""}, {"stage", "level"}),
        ({"name": "", "concierge": "enterprise_user"}, {"name", "concierge"}),
    ],
)
def test_a_bad_project_names_its_fields_and_writes_nothing(zone, changes, fields):
    values = {"name": "新厂房扩建项目", "total_investment": 1000, "stage": "started", "level": "kunshan"} | changes
    if values.get("concierge"):
        values["concierge"] = getattr(zone, values["concierge"])
    with pytest.raises(InvalidInput) as refused:
        register_project(actor=zone.admin, enterprise=zone.enterprise, **values)
    assert set(refused.value.fields) == fields
    assert not Project.objects.exists()
