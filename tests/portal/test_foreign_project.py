"""An enterprise without projects that names a project is refused, whether the project exists or not."""

import pytest

from tests.factories import ProjectFactory
from tests.portal.conftest import html
from tracker.models import Case

pytestmark = pytest.mark.django_db

URL = "/portal/cases/new/"


def _form(zone, **extra) -> dict:
    return {
        "category": zone.category.pk,
        "title": "新厂房用电增容",
        "description": "新厂房下月投产，需要增容到 2000 千伏安。",
        "urgency": "normal",
        **extra,
    }


def test_another_enterprises_project_is_refused_when_the_enterprise_has_none(portal, zone):
    # Given an enterprise without projects and another enterprise's project
    theirs = ProjectFactory(enterprise=zone.other_enterprise, name="别家的项目")
    # When the portal is sent that project's id
    response = portal.post(URL, _form(zone, project=theirs.pk))
    # Then nothing is created and the refusal names the project field, shown on the page
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "project" in errors
    assert errors["project"][0] in html(response)
    assert "别家的项目" not in html(response)
    assert Case.objects.count() == 0
    # And the message is the one a project that does not exist gets: existence is not revealed
    missing = portal.post(URL, _form(zone, project=theirs.pk + 1000))
    assert missing.status_code == 400
    assert missing.context["form"].errors["project"] == errors["project"]
    assert Case.objects.count() == 0


def test_without_a_project_the_case_is_still_submitted(portal, zone):
    # Given an enterprise without projects, when it submits with the project left empty
    response = portal.post(URL, _form(zone, project=""))
    # Then the case is created without a project
    assert response.status_code == 302
    assert Case.objects.get().project is None
