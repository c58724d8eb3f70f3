"""Importing enterprises and projects from Excel (services/register/imports.py): all rows or none, with a preview."""

import random
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from services.errors import InvalidInput, NotPermitted
from services.register.imports import MAX_ROWS, import_template, preview_import, run_import
from services.register.uscc import generate_uscc
from tests.factories import TierFactory, UserFactory
from tracker.models import Enterprise, Project

ENTERPRISE_HEADER = [
    "企业名称",
    "统一社会信用代码",
    "产业领域",
    "企业层级",
    "重点企业",
    "所在园区",
    "地址",
    "联系人",
    "联系电话",
    "联系邮箱",
    "服务专员",
    "备用服务专员",
    "挂钩领导",
]
PROJECT_HEADER = [
    "项目名称",
    "企业",
    "总投资（万元）",
    "项目阶段",
    "项目级别",
    "签约日期",
    "服务专员",
    "备用服务专员",
    "挂钩领导",
]

_rng = random.Random(20260501)
CODE_A, CODE_B, CODE_C, CODE_D = (generate_uscc(_rng) for _ in range(4))
BAD_CHECK = CODE_D[:17] + ("1" if CODE_D[17] != "1" else "2")


def xlsx(*rows) -> BytesIO:
    """An .xlsx upload whose first sheet holds `rows` (the first being the header)."""
    workbook = Workbook()
    for row in rows:
        workbook.active.append(list(row))
    output = BytesIO()
    workbook.save(output)
    output.seek(0)
    return output


def enterprise_row(name, code, values: dict | None = None) -> list:
    """A data row under ENTERPRISE_HEADER; `values` overrides columns by header."""
    row = dict.fromkeys(ENTERPRISE_HEADER, None) | {"企业名称": name, "统一社会信用代码": code, "产业领域": "电子信息"}
    return list((row | (values or {})).values())


def _by_row(preview) -> dict[int, dict[str, list[str]]]:
    return {row.number: row.errors for row in preview.error_rows}


# Enterprises --------------------------------------------------------------------------------------------------


def test_a_good_enterprises_file_previews_clean_then_imports_every_row_with_its_staff(zone):
    # Given two tiers and a file of three enterprises naming staff by username or by full name
    TierFactory(code="high_tech", name="高新技术企业")
    TierFactory(code="gazelle", name="瞪羚企业")
    upload = xlsx(
        ENTERPRISE_HEADER,
        enterprise_row(
            "昆山新材料科技有限公司",
            CODE_A,
            {
                "产业领域": "green_economy",
                "企业层级": "高新技术企业、gazelle",
                "所在园区": "昆山高新区",
                "联系电话": 13812345678,
                "服务专员": "concierge",
                "备用服务专员": "李四",
                "挂钩领导": "吴主任",
            },
        ),
        enterprise_row(
            "昆山智算科技有限公司", CODE_B.lower(), {"产业领域": "先进计算", "重点企业": "否", "服务专员": "王五"}
        ),
        enterprise_row("昆山老字号机械有限公司", BAD_CHECK, {"服务专员": "张三"}),
    )
    before = Enterprise.objects.count()

    # When an administrator previews it
    preview = preview_import(actor=zone.admin, kind="enterprises", upload=upload)

    # Then every row is fine, the old code with a wrong check character only warned about, and nothing is written
    assert preview.ok and preview.kind == "enterprises"
    assert [header for _field, header in preview.columns] == ENTERPRISE_HEADER
    assert [row.number for row in preview.rows] == [2, 3, 4]
    assert [row.number for row in preview.warning_rows] == [4]
    assert "校验位" in preview.rows[2].warnings["uscc"][0]
    assert preview.rows[0].values["concierge"] == "张三（concierge）"
    assert preview.rows[0].values["industry"] == "绿色经济"
    assert preview.rows[1].values["uscc"] == CODE_B
    assert Enterprise.objects.count() == before

    # When they import it
    result = run_import(actor=zone.admin, kind="enterprises", upload=upload)

    # Then all three are on the register, linked to the staff the file named
    assert result.ok and len(result.rows) == 3
    first = Enterprise.objects.get(uscc=CODE_A)
    assert (first.name, first.industry, first.park, first.contact_phone) == (
        "昆山新材料科技有限公司",
        "green_economy",
        "昆山高新区",
        "13812345678",
    )
    assert (first.concierge, first.backup_concierge, first.linked_leader) == (zone.concierge, zone.backup, zone.leader)
    assert sorted(first.tiers.values_list("code", flat=True)) == ["gazelle", "high_tech"]
    second = Enterprise.objects.get(uscc=CODE_B)
    assert (second.industry, second.is_key, second.concierge) == ("advanced_computing", False, zone.other_concierge)
    flagged = Enterprise.objects.get(uscc=BAD_CHECK)
    assert (flagged.uscc_checksum_ok, flagged.is_key, flagged.concierge) == (False, True, zone.concierge)
    assert Enterprise.objects.count() == before + 3


def test_a_file_with_bad_rows_imports_nothing_and_names_each_row_and_why(zone):
    # Given a file with one good row and rows that are each wrong in one way
    upload = xlsx(
        ENTERPRISE_HEADER,
        enterprise_row("昆山好企业有限公司", CODE_A, {"服务专员": "concierge"}),  # row 2: good
        enterprise_row("昆山短码有限公司", "91320583123"),  # row 3: malformed credit code
        enterprise_row("昆山无人管有限公司", CODE_B, {"服务专员": "赵钱孙"}),  # row 4: unknown concierge
        enterprise_row("昆山精密制造（重复）", zone.enterprise.uscc),  # row 5: already registered
        enterprise_row("昆山双胞胎甲有限公司", CODE_C),  # row 6: same code as row 7
        enterprise_row("昆山双胞胎乙有限公司", CODE_C.lower()),  # row 7
        enterprise_row("", CODE_D, {"产业领域": "采矿业"}),  # row 8: no name, unknown industry
    )
    before = Enterprise.objects.count()

    # When an administrator previews it
    preview = preview_import(actor=zone.admin, kind="enterprises", upload=upload)

    # Then every bad row is named with the field and the reason, and the good row is not
    assert not preview.ok
    errors = _by_row(preview)
    assert set(errors) == {3, 4, 5, 6, 7, 8}
    assert list(errors[3]) == ["uscc"] and "18位" in errors[3]["uscc"][0]
    assert errors[4] == {"concierge": ["未找到服务专员 赵钱孙"]}
    assert list(errors[5]) == ["uscc"] and "已登记" in errors[5]["uscc"][0]
    assert errors[6] == errors[7] == {"uscc": [f"统一社会信用代码 {CODE_C} 在文件中重复（第6、7行）"]}
    assert set(errors[8]) == {"name", "industry"}

    # When they try to import it anyway
    with pytest.raises(InvalidInput) as refused:
        run_import(actor=zone.admin, kind="enterprises", upload=upload)

    # Then nothing at all is written, not even the good row, and the error names each bad row's fields
    assert Enterprise.objects.count() == before
    assert not Enterprise.objects.filter(uscc=CODE_A).exists()
    assert set(refused.value.fields) == {
        "row 3.uscc",
        "row 4.concierge",
        "row 5.uscc",
        "row 6.uscc",
        "row 7.uscc",
        "row 8.name",
        "row 8.industry",
    }
    assert "第3、4、5、6、7、8行" in refused.value.message


def test_staff_sharing_a_full_name_must_be_named_by_username(zone):
    # Given two active staff both called 陈明
    UserFactory(username="chenming1", full_name="陈明")
    UserFactory(username="chenming2", full_name="陈明")
    upload = xlsx(
        ENTERPRISE_HEADER,
        enterprise_row("昆山甲有限公司", CODE_A, {"服务专员": "陈明"}),
        enterprise_row("昆山乙有限公司", CODE_B, {"服务专员": "chenming2"}),
    )
    # When a file names one of them by the shared name, and the other by username
    preview = preview_import(actor=zone.admin, kind="enterprises", upload=upload)
    # Then the name is refused as ambiguous and the username is found
    assert list(_by_row(preview)) == [2]
    assert _by_row(preview)[2]["concierge"][0].startswith("未找到服务专员 陈明")
    assert "同名" in _by_row(preview)[2]["concierge"][0]
    assert preview.rows[1].values["concierge"] == "陈明（chenming2）"


def test_an_enterprise_user_or_a_former_colleague_cannot_be_a_concierge(zone):
    # Given a staff member who has left
    UserFactory(username="retired", full_name="退休的", is_active=False)
    upload = xlsx(
        ENTERPRISE_HEADER,
        enterprise_row("昆山甲有限公司", CODE_A, {"服务专员": "retired"}),
        enterprise_row("昆山乙有限公司", CODE_B, {"服务专员": "ent_user"}),
        enterprise_row("昆山丙有限公司", CODE_C, {"服务专员": "退休的"}),
    )
    # When a file names them, by username or by name
    preview = preview_import(actor=zone.admin, kind="enterprises", upload=upload)
    # Then each is refused: the register's own rule for the former colleague, not found for the others
    errors = _by_row(preview)
    assert errors[2] == {"concierge": ["须为在职的工作人员"]}
    assert errors[3] == {"concierge": ["未找到服务专员 ent_user"]}
    assert errors[4] == {"concierge": ["未找到服务专员 退休的"]}


def test_columns_are_matched_by_header_in_any_order(zone):
    # Given a file with only the required columns, in another order, with marks and half-width brackets around
    upload = xlsx(
        ["产业领域", " *统一社会信用代码", "企业名称", "企业梯队"],
        ["人工智能", CODE_A, "昆山智能有限公司", None],
    )
    # When it is imported
    run_import(actor=zone.admin, kind="enterprises", upload=upload)
    # Then the enterprise is registered from the right columns
    enterprise = Enterprise.objects.get(uscc=CODE_A)
    assert (enterprise.name, enterprise.industry, enterprise.is_key) == (
        "昆山智能有限公司",
        "artificial_intelligence",
        True,
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ([*ENTERPRISE_HEADER, "备注"], "无法识别的列：备注"),
        (["企业名称", "统一社会信用代码"], "缺少必填的列：产业领域"),
        (["企业名称", "统一社会信用代码", "产业领域", "企业名称"], "重复的列：企业名称"),
    ],
)
def test_a_header_that_does_not_fit_is_refused_on_the_file(zone, header, expected):
    upload = xlsx(header, ["昆山甲有限公司", CODE_A, "电子信息", *[None] * (len(header) - 3)])
    with pytest.raises(InvalidInput) as refused:
        preview_import(actor=zone.admin, kind="enterprises", upload=upload)
    assert list(refused.value.fields) == ["file"]
    assert expected in refused.value.fields["file"][0]


def test_data_under_a_blank_header_is_not_silently_dropped(zone):
    upload = xlsx(
        ["企业名称", "统一社会信用代码", "产业领域", None], ["昆山甲有限公司", CODE_A, "电子信息", "多出来的"]
    )
    with pytest.raises(InvalidInput) as refused:
        preview_import(actor=zone.admin, kind="enterprises", upload=upload)
    assert list(refused.value.fields) == ["file"]
    assert "第D列有数据但没有表头" in refused.value.message


def test_an_unknown_tier_or_yes_no_is_a_row_error(zone):
    TierFactory(code="unicorn", name="独角兽企业")
    upload = xlsx(
        ENTERPRISE_HEADER,
        enterprise_row("昆山甲有限公司", CODE_A, {"企业层级": "独角兽企业，超级企业", "重点企业": "也许"}),
    )
    preview = preview_import(actor=zone.admin, kind="enterprises", upload=upload)
    errors = _by_row(preview)[2]
    assert set(errors) == {"tiers", "is_key"}
    assert "超级企业" in errors["tiers"][0] and "独角兽企业" in errors["tiers"][0]


# Projects ----------------------------------------------------------------------------------------------------


def project_row(name, enterprise, values: dict | None = None) -> list:
    """A data row under PROJECT_HEADER; `values` overrides columns by header."""
    row = dict.fromkeys(PROJECT_HEADER, None) | {
        "项目名称": name,
        "企业": enterprise,
        "总投资（万元）": 52000,
        "项目阶段": "开工",
        "项目级别": "昆山市重大项目",
    }
    return list((row | (values or {})).values())


def test_a_projects_file_with_good_and_bad_rows_imports_nothing_then_the_good_ones_import(zone):
    # Given a file of projects: two good (enterprise by credit code and by name), and bad ones
    upload = xlsx(
        PROJECT_HEADER,
        project_row("新厂房扩建项目", zone.enterprise.uscc, {"签约日期": datetime(2025, 3, 18)}),  # row 2: good
        project_row(
            "智能产线项目", "昆山恒远电子有限公司", {"总投资（万元）": "1,200.5", "项目级别": "district"}
        ),  # row 3: good
        project_row(
            "不存在企业的项目", "昆山不存在有限公司", {"总投资（万元）": "很多"}
        ),  # row 4: unknown enterprise, bad amount
        project_row("阶段不明项目", zone.enterprise.uscc, {"项目阶段": "规划中", "签约日期": "2025-02-30"}),  # row 5
        project_row("", zone.enterprise.uscc, {"服务专员": "nobody"}),  # row 6: no name, unknown concierge
        project_row("其余都对的项目", "91320583MA0000000X"),  # row 7: unknown enterprise only
    )

    # When an administrator previews it
    preview = preview_import(actor=zone.admin, kind="projects", upload=upload)

    # Then each bad row is named with every field wrong in it, even where the enterprise is unknown
    errors = _by_row(preview)
    assert set(errors) == {4, 5, 6, 7}
    assert errors[4]["enterprise"] == ["未找到企业 昆山不存在有限公司"]
    assert errors[4]["total_investment"] == ["总投资应为不小于0的金额（万元）"]
    assert set(errors[5]) == {"stage", "signed_on"}
    assert "签约、落地、开工、竣工、投产" in errors[5]["stage"][0]
    assert set(errors[6]) == {"name", "concierge"}
    assert errors[7] == {"enterprise": ["未找到企业 91320583MA0000000X"]}
    assert preview.rows[0].values["enterprise"] == "昆山精密制造有限公司"

    # When they import it, nothing is written
    with pytest.raises(InvalidInput) as refused:
        run_import(actor=zone.admin, kind="projects", upload=upload)
    assert "row 4.enterprise" in refused.value.fields and "row 5.signed_on" in refused.value.fields
    assert not Project.objects.exists()

    # When the good rows alone are imported
    good = xlsx(PROJECT_HEADER, *(project_row_values for project_row_values in _rows_of(upload)[:2]))
    run_import(actor=zone.admin, kind="projects", upload=good)

    # Then both projects are registered, with the enterprise's staff by default
    first = Project.objects.get(name="新厂房扩建项目")
    assert (first.enterprise, first.total_investment, first.stage, first.level, first.signed_on) == (
        zone.enterprise,
        Decimal("52000.00"),
        "started",
        "kunshan",
        date(2025, 3, 18),
    )
    assert (first.concierge, first.linked_leader) == (zone.concierge, zone.leader)
    second = Project.objects.get(name="智能产线项目")
    assert (second.enterprise, second.total_investment, second.level) == (
        zone.other_enterprise,
        Decimal("1200.50"),
        "district",
    )


def _rows_of(upload: BytesIO) -> list[list]:
    upload.seek(0)
    sheet = load_workbook(upload).worksheets[0]
    return [list(row) for row in sheet.iter_rows(min_row=2, values_only=True)]


def test_a_project_already_on_the_register_is_warned_about(zone):
    # Given a project already registered for the enterprise
    run_import(
        actor=zone.admin,
        kind="projects",
        upload=xlsx(PROJECT_HEADER, project_row("新厂房扩建项目", zone.enterprise.uscc)),
    )
    # When the same file is previewed again
    preview = preview_import(
        actor=zone.admin,
        kind="projects",
        upload=xlsx(PROJECT_HEADER, project_row("新厂房扩建项目", zone.enterprise.uscc)),
    )
    # Then it would import, but the row carries a warning about the duplicate
    assert preview.ok
    assert "同名项目" in preview.rows[0].warnings["name"][0]


# Who may import, and files that are not import files -----------------------------------------------------------


@pytest.mark.parametrize("who", ["concierge", "officer", "enterprise_user", "integration"])
def test_only_those_who_keep_the_register_may_import(zone, who):
    upload = xlsx(ENTERPRISE_HEADER, enterprise_row("昆山甲有限公司", CODE_A))
    with pytest.raises(NotPermitted):
        preview_import(actor=getattr(zone, who), kind="enterprises", upload=upload)
    with pytest.raises(NotPermitted):
        run_import(actor=getattr(zone, who), kind="enterprises", upload=upload)
    assert not Enterprise.objects.filter(uscc=CODE_A).exists()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"this is not a spreadsheet", "无法读取文件"),
        (b"PK\x03\x04 a broken zip", "无法读取文件"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "无法读取文件"),  # an old .xls
        (b"", "文件是空的"),
    ],
)
def test_a_file_that_is_not_an_xlsx_is_refused_cleanly(zone, content, expected):
    # Given an upload as the admin would receive it
    upload = SimpleUploadedFile("企业.xlsx", content)
    # When it is previewed or imported
    for attempt in (preview_import, run_import):
        with pytest.raises(InvalidInput) as refused:
            attempt(actor=zone.admin, kind="enterprises", upload=upload)
        # Then it is refused on the file field, with a reason a person understands
        assert list(refused.value.fields) == ["file"]
        assert expected in refused.value.fields["file"][0]


def test_a_workbook_without_any_rows_is_refused(zone):
    with pytest.raises(InvalidInput) as refused:
        preview_import(actor=zone.admin, kind="enterprises", upload=xlsx())
    assert list(refused.value.fields) == ["file"]
    assert "没有内容" in refused.value.message


def test_too_many_rows_are_refused_before_anything_is_checked(zone):
    upload = xlsx(ENTERPRISE_HEADER, *([f"企业{n}", "x", "电子信息"] for n in range(MAX_ROWS + 1)))
    with pytest.raises(InvalidInput) as refused:
        preview_import(actor=zone.admin, kind="enterprises", upload=upload)
    assert list(refused.value.fields) == ["file"]
    assert f"最多导入{MAX_ROWS}行" in refused.value.message


def test_an_unknown_kind_is_refused(zone):
    with pytest.raises(InvalidInput) as refused:
        preview_import(actor=zone.admin, kind="visits", upload=xlsx(ENTERPRISE_HEADER))
    assert list(refused.value.fields) == ["kind"]


# The template ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "header"), [("enterprises", ENTERPRISE_HEADER), ("projects", PROJECT_HEADER)])
def test_the_template_is_the_header_and_an_explanation_and_reads_back_as_an_empty_file(zone, kind, header):
    # Given the template staff download
    data = import_template(kind)
    workbook = load_workbook(BytesIO(data))
    # Then its first sheet is exactly the import header, and "说明" explains every column
    assert [cell.value for cell in workbook.worksheets[0][1]] == header
    assert workbook.worksheets[0].max_row == 1
    notes = workbook["说明"]
    explained = [row[0] for row in notes.iter_rows(min_row=2, values_only=True) if row[1] in ("必填", "选填")]
    assert explained == header
    # When it is uploaded unfilled
    with pytest.raises(InvalidInput) as refused:
        preview_import(actor=zone.admin, kind=kind, upload=BytesIO(data))
    # Then the header is accepted and the refusal says there are no rows
    assert refused.value.fields == {"file": ["文件只有表头，没有要导入的数据行"]}


def test_a_filled_in_template_imports(zone):
    # Given the template with one enterprise typed into it
    workbook = load_workbook(BytesIO(import_template("enterprises")))
    workbook.worksheets[0].append(enterprise_row("昆山模板有限公司", CODE_A, {"服务专员": "concierge"}))
    upload = BytesIO()
    workbook.save(upload)
    # When it is imported
    run_import(actor=zone.admin, kind="enterprises", upload=upload)
    # Then the enterprise is on the register
    assert Enterprise.objects.get(uscc=CODE_A).concierge == zone.concierge
