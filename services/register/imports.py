"""Importing the zone's register from Excel: key enterprises or investment projects, every row or none.

The first worksheet is read; its first non-empty row is the header, matched by column title in any order
(full- or half-width brackets, a leading "*" and spaces are ignored). Each later non-empty row is one
enterprise or project. Rows are checked by the very functions that register them one by one
(`services.register.zone.register_enterprise` / `register_project`), each in a savepoint of one transaction: a preview
rolls the transaction back, an import commits it only when every row passed. What the import adds is only
what a spreadsheet needs: reading cells, finding staff, enterprises, tiers and choices by what people type,
and spotting a credit code entered twice in the same file.
"""

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from io import BytesIO

from django.conf import settings
from django.db import DataError, transaction
from django.db.models import Q, TextChoices
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from services.errors import Conflict, InvalidInput, ServiceError
from services.register.uscc import parse_uscc
from services.register.zone import register_enterprise, register_project, require_register_keeper
from tracker.models import Enterprise, Project, Tier, User
from tracker.models.zone import Industry

ENTERPRISES = "enterprises"
PROJECTS = "projects"
KINDS = (ENTERPRISES, PROJECTS)
MAX_ROWS = 5000
MAX_FILE_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Column:
    """One column of an import file: the field it fills, its header, and what staff are told about it."""

    field: str
    header: str
    required: bool = False
    help: str = ""
    aliases: tuple[str, ...] = ()
    text_format: bool = False  # typed as text in the template, so long digit strings keep every digit


_STAFF_HELP = gettext_lazy("填写用户名，或在职工作人员中唯一的姓名")

ENTERPRISE_COLUMNS = (
    Column("name", gettext_lazy("企业名称"), True, gettext_lazy("企业全称")),
    Column(
        "uscc",
        gettext_lazy("统一社会信用代码"),
        True,
        gettext_lazy("18位；校验位不符的早期代码可以导入，登记后标记待核实"),
        text_format=True,
    ),
    Column("industry", gettext_lazy("产业领域"), True, gettext_lazy("可选：%(choices)s")),
    Column(
        "tiers",
        gettext_lazy("企业层级"),
        False,
        gettext_lazy("可填多个，用逗号或顿号分隔；可选：%(tiers)s"),
        aliases=(gettext_lazy("企业梯队"),),
    ),
    Column("is_key", gettext_lazy("重点企业"), False, gettext_lazy("是/否，空白为是")),
    Column("park", gettext_lazy("所在园区")),
    Column("address", gettext_lazy("地址")),
    Column("contact_name", gettext_lazy("联系人")),
    Column("contact_phone", gettext_lazy("联系电话"), text_format=True),
    Column("contact_email", gettext_lazy("联系邮箱")),
    Column("concierge", gettext_lazy("服务专员"), False, _STAFF_HELP),
    Column("backup_concierge", gettext_lazy("备用服务专员"), False, _STAFF_HELP, aliases=(gettext_lazy("备岗专员"),)),
    Column("linked_leader", gettext_lazy("挂钩领导"), False, _STAFF_HELP),
)

PROJECT_COLUMNS = (
    Column("name", gettext_lazy("项目名称"), True),
    Column(
        "enterprise",
        gettext_lazy("企业"),
        True,
        gettext_lazy("已登记企业的统一社会信用代码，或企业全称"),
        aliases=(gettext_lazy("所属企业"),),
        text_format=True,
    ),
    Column("total_investment", gettext_lazy("总投资（万元）"), True, gettext_lazy("不小于0的数字，单位万元")),
    Column("stage", gettext_lazy("项目阶段"), True, gettext_lazy("可选：%(stages)s")),
    Column("level", gettext_lazy("项目级别"), True, gettext_lazy("可选：%(levels)s")),
    Column("signed_on", gettext_lazy("签约日期"), False, gettext_lazy("如 2025-03-18，可空")),
    Column(
        "concierge", gettext_lazy("服务专员"), False, gettext_lazy("填写用户名或唯一的姓名；空白则用企业的服务专员")
    ),
    Column("backup_concierge", gettext_lazy("备用服务专员"), False, _STAFF_HELP, aliases=(gettext_lazy("备岗专员"),)),
    Column(
        "linked_leader", gettext_lazy("挂钩领导"), False, gettext_lazy("填写用户名或唯一的姓名；空白则用企业的挂钩领导")
    ),
)

_STAFF_FIELDS = ("concierge", "backup_concierge", "linked_leader")


@dataclass
class ImportRow:
    """One data row: its Excel row number, its values as read and cleaned for display (keyed by field, see
    `ImportPreview.columns`; staff, enterprises and choices by name), and what is wrong with it, by field
    ("row" for the row as a whole)."""

    number: int
    values: dict[str, str]
    errors: dict[str, list[str]] = field(default_factory=dict)
    warnings: dict[str, list[str]] = field(default_factory=dict)  # imported anyway, but worth a look

    def add_error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(str(message))

    def add_warning(self, name: str, message: str) -> None:
        self.warnings.setdefault(name, []).append(str(message))


@dataclass
class ImportPreview:
    """What an import file holds and would do: every row, with its errors and warnings."""

    kind: str
    rows: list[ImportRow]

    @property
    def ok(self) -> bool:
        return not self.error_rows

    @property
    def error_rows(self) -> list[ImportRow]:
        return [row for row in self.rows if row.errors]

    @property
    def warning_rows(self) -> list[ImportRow]:
        return [row for row in self.rows if row.warnings]

    @property
    def columns(self) -> list[tuple[str, str]]:
        """(field, header) of every column of this kind, in the template's order."""
        return [(column.field, str(column.header)) for column in _COLUMNS[self.kind]]


_COLUMNS = {ENTERPRISES: ENTERPRISE_COLUMNS, PROJECTS: PROJECT_COLUMNS}
_SHEET_TITLES = {ENTERPRISES: gettext_lazy("重点企业"), PROJECTS: gettext_lazy("投资项目")}


# Reading the file ------------------------------------------------------------------------------------------


def _file_error(message: str) -> InvalidInput:
    return InvalidInput(message, fields={"file": message})


def _read_bytes(upload) -> bytes:
    if upload is None:
        raise _file_error(_("请选择要导入的 Excel 文件"))
    if getattr(upload, "size", None) is not None and upload.size > MAX_FILE_BYTES:
        raise _file_error(_("文件过大，不能超过%(mb)dMB") % {"mb": MAX_FILE_BYTES // (1024 * 1024)})
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise _file_error(_("文件过大，不能超过%(mb)dMB") % {"mb": MAX_FILE_BYTES // (1024 * 1024)})
    if not data:
        raise _file_error(_("文件是空的"))
    return data


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _read_sheet(upload) -> tuple[tuple, list[tuple[int, tuple]]]:
    """(header cells, [(row number, cells)]) of the first worksheet's non-empty rows."""
    data = _read_bytes(upload)
    unreadable = _file_error(_("无法读取文件，请上传 Excel 工作簿（.xlsx）；.xls 等旧格式请先另存为 .xlsx"))
    # openpyxl reports a malformed workbook with many exception types (zip, XML, KeyError...); all mean the same.
    try:
        workbook = load_workbook(BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise unreadable from None
    header: tuple | None = None
    rows: list[tuple[int, tuple]] = []
    try:
        if not workbook.worksheets:
            raise unreadable
        for number, cells in enumerate(workbook.worksheets[0].iter_rows(values_only=True), 1):
            if all(_blank(value) for value in cells):
                continue
            if header is None:
                header = cells
                continue
            rows.append((number, cells))
            if len(rows) > MAX_ROWS:
                raise _file_error(_("一次最多导入%(max)d行，请分批导入") % {"max": MAX_ROWS})
    except InvalidInput:
        raise
    except Exception:
        raise unreadable from None
    finally:
        workbook.close()
    if header is None:
        raise _file_error(_("文件中没有内容：第一行应为表头，之后每行一条记录"))
    if not rows:
        raise _file_error(_("文件只有表头，没有要导入的数据行"))
    return header, rows


def _header_key(value) -> str:
    text = re.sub(r"\s+", "", _text(value)).replace("(", "（").replace(")", "）")
    return text.strip("*＊")


def _map_header(kind: str, header: tuple) -> dict[int, Column]:
    """Column index -> Column; refuses unknown, repeated and missing required headers, naming them."""
    by_title = {}
    for column in _COLUMNS[kind]:
        for title in (column.header, *column.aliases):
            for spelling in _in_both_languages(title):
                by_title[_header_key(spelling)] = column
    mapping: dict[int, Column] = {}
    unknown, repeated = [], []
    for index, value in enumerate(header):
        if _blank(value):
            continue
        column = by_title.get(_header_key(value))
        if column is None:
            unknown.append(_text(value))
        elif column in mapping.values():
            repeated.append(_text(value))
        else:
            mapping[index] = column
    present = set(mapping.values())
    missing = [str(column.header) for column in _COLUMNS[kind] if column.required and column not in present]
    problems = []
    if unknown:
        problems.append(_("无法识别的列：%(columns)s") % {"columns": "、".join(unknown)})
    if repeated:
        problems.append(_("重复的列：%(columns)s") % {"columns": "、".join(repeated)})
    if missing:
        problems.append(_("缺少必填的列：%(columns)s") % {"columns": "、".join(missing)})
    if problems:
        problems.append(_("请使用导入模板的表头"))
        raise InvalidInput("；".join(problems), fields={"file": problems})
    return mapping


# Reading cells ---------------------------------------------------------------------------------------------


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(" ", "minutes")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _in_both_languages(label) -> set[str]:
    """A label as the reader's language says it and as the Chinese source does: a file filled in from the
    Chinese template imports the same whatever language the administrator's screen is in."""
    with translation.override(settings.LANGUAGE_CODE):
        source = str(label)
    return {str(label), source}


def _choice(text: str, choices: type[TextChoices]) -> str | None:
    for code, label in choices.choices:
        if text.lower() == code or text in _in_both_languages(label):
            return code
    return None


def _choice_error(text: str, choices: type[TextChoices]) -> str:
    return _("无效的选项“%(value)s”，可选：%(valid)s") % {"value": text, "valid": "、".join(map(str, choices.labels))}


_YES = {"是", "y", "yes", "true", "1"}
_NO = {"否", "n", "no", "false", "0"}
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")


def _date(value) -> date | None:
    """The date in a cell (an Excel date or text such as 2025-03-18); ValueError if it is not one."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    if not text:
        return None
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(text)


class _Lookups:
    """Staff, tiers and enterprises, each read once for the whole file."""

    def __init__(self, kind: str, enterprises: set[str]):
        """`enterprises`: what the file names its projects' enterprises by (credit codes or names)."""
        self.staff_by_username: dict[str, User] = {}
        self.staff_by_name: dict[str, list[User]] = defaultdict(list)
        for user in User.objects.filter(enterprise__isnull=True).order_by("pk"):
            self.staff_by_username[user.username] = user
            if user.is_active and user.full_name:
                self.staff_by_name[user.full_name].append(user)
        self.tiers: dict[str, Tier] = {}
        for tier in Tier.objects.all():
            self.tiers[tier.code.lower()] = self.tiers[tier.name] = tier
        self.enterprises_by_code: dict[str, Enterprise] = {}
        self.enterprises_by_name: dict[str, list[Enterprise]] = defaultdict(list)
        self.project_names: set[tuple[int, str]] = set()
        if enterprises:
            codes = {text.strip().upper() for text in enterprises}
            named = Enterprise.objects.filter(Q(uscc__in=codes) | Q(name__in=enterprises))
            for enterprise in named.select_related("concierge", "linked_leader").order_by("pk"):
                self.enterprises_by_code[enterprise.uscc] = enterprise
                self.enterprises_by_name[enterprise.name].append(enterprise)
            self.project_names = set(Project.objects.filter(enterprise__in=named).values_list("enterprise_id", "name"))

    def staff(self, row: ImportRow, name: str, text: str, title: str) -> User | None:
        if not text:
            return None
        user = self.staff_by_username.get(text)
        if user is None and len(self.staff_by_name.get(text, [])) == 1:
            user = self.staff_by_name[text][0]
        if user is None:
            message = _("未找到%(role)s %(who)s") % {"role": title, "who": text}
            if len(self.staff_by_name.get(text, [])) > 1:
                message += _("（有%(count)d人同名，请填写用户名）") % {"count": len(self.staff_by_name[text])}
            row.add_error(name, message)
            return None
        row.values[name] = f"{user.display_name}（{user.username}）"
        return user

    def enterprise(self, row: ImportRow, text: str) -> Enterprise | None:
        if not text:
            row.add_error("enterprise", _("此项不能为空"))
            return None
        try:
            found = self.enterprises_by_code.get(parse_uscc(text).code)
        except InvalidInput:
            found = None
        named = self.enterprises_by_name.get(text, [])
        if found is None and len(named) == 1:
            found = named[0]
        if found is None:
            message = _("未找到企业 %(enterprise)s") % {"enterprise": text}
            if len(named) > 1:
                message += _("（有%(count)d家同名，请填写统一社会信用代码）") % {"count": len(named)}
            row.add_error("enterprise", message)
            return None
        row.values["enterprise"] = found.name
        return found


# Parsing rows into the register's arguments ----------------------------------------------------------------


def _enterprise_arguments(row: ImportRow, cells: dict, lookups: _Lookups) -> dict:
    v = row.values
    industry = _choice(v["industry"], Industry)
    if industry:
        v["industry"] = str(Industry(industry).label)
    tiers = []
    for part in filter(None, (p.strip() for p in re.split(r"[,，、;；]", v["tiers"]))):
        tier = lookups.tiers.get(part) or lookups.tiers.get(part.lower())
        if tier is None:
            row.add_error(
                "tiers",
                _("未找到企业层级 %(tier)s，可选：%(valid)s")
                % {"tier": part, "valid": "、".join(sorted({t.name for t in lookups.tiers.values()}))},
            )
        elif tier not in tiers:
            tiers.append(tier)
    if not row.errors.get("tiers"):
        v["tiers"] = "、".join(tier.name for tier in tiers)
    is_key = True
    if v["is_key"].lower() in _NO:
        is_key = False
    elif v["is_key"] and v["is_key"].lower() not in _YES:
        row.add_error("is_key", _("应填写“是”或“否”"))
    v["is_key"] = _("是") if is_key else _("否")
    return {
        "name": v["name"],
        "uscc": v["uscc"],
        "industry": industry or v["industry"],  # an unknown one is refused by the register, listing the choices
        "tiers": tiers,
        "is_key": is_key,
        **{name: v[name] for name in ("park", "address", "contact_name", "contact_phone", "contact_email")},
    }


def _project_arguments(row: ImportRow, cells: dict, lookups: _Lookups) -> dict:
    v = row.values
    enterprise = lookups.enterprise(row, v["enterprise"])
    choices = {}
    for name, kind in (("stage", Project.Stage), ("level", Project.Level)):
        choices[name] = _choice(v[name], kind)
        if choices[name]:
            v[name] = str(kind(choices[name]).label)
        elif v[name]:
            row.add_error(name, _choice_error(v[name], kind))
    signed_on = None
    try:
        signed_on = _date(cells["signed_on"])
        v["signed_on"] = signed_on.isoformat() if signed_on else ""
    except ValueError:
        row.add_error("signed_on", _("日期格式应为 年-月-日，如 2025-03-18"))
    investment = cells["total_investment"]
    if isinstance(investment, str):
        investment = investment.replace(",", "").replace("，", "").strip()
    if enterprise is not None and (enterprise.pk, v["name"]) in lookups.project_names:
        row.add_warning("name", _("该企业已登记同名项目，导入后将有两个同名项目"))
    return {
        "enterprise": enterprise,
        "name": v["name"],
        "total_investment": "" if investment is None else investment,
        "stage": choices["stage"] or v["stage"],
        "level": choices["level"] or v["level"],
        "signed_on": signed_on,
    }


@dataclass
class _Parsed:
    row: ImportRow
    arguments: dict


def _cells_by_field(kind: str, header: tuple, cells_by_row: list[tuple[int, tuple]]) -> list[tuple[int, dict]]:
    mapping = _map_header(kind, header)
    rows = []
    for number, cells in cells_by_row:
        raw = {column.field: None for column in _COLUMNS[kind]}
        for index, value in enumerate(cells):
            if index in mapping:
                raw[mapping[index].field] = value
            elif not _blank(value):
                raise _file_error(
                    _("第%(column)s列有数据但没有表头（第%(row)d行）")
                    % {"column": get_column_letter(index + 1), "row": number}
                )
        rows.append((number, raw))
    return rows


def _parse(kind: str, header: tuple, cells_by_row: list[tuple[int, tuple]]) -> list[_Parsed]:
    rows = _cells_by_field(kind, header, cells_by_row)
    lookups = _Lookups(kind, {_text(raw["enterprise"]) for _number, raw in rows} if kind == PROJECTS else set())
    staff_titles = {column.field: str(column.header) for column in _COLUMNS[kind] if column.field in _STAFF_FIELDS}
    parsed = []
    for number, raw in rows:
        row = ImportRow(number=number, values={name: _text(value) for name, value in raw.items()})
        arguments = (_enterprise_arguments if kind == ENTERPRISES else _project_arguments)(row, raw, lookups)
        for name, title in staff_titles.items():
            arguments[name] = lookups.staff(row, name, row.values[name], title)
        parsed.append(_Parsed(row, arguments))
    if kind == ENTERPRISES:
        _flag_repeated_codes(parsed)
    else:
        _flag_repeated_projects(parsed)
    return parsed


def _flag_repeated_codes(parsed: list[_Parsed]) -> None:
    rows_by_code: dict[str, list[ImportRow]] = defaultdict(list)
    for item in parsed:
        try:
            code = parse_uscc(item.row.values["uscc"])
        except InvalidInput:
            continue  # the register names what is wrong with it
        item.row.values["uscc"] = code.code
        rows_by_code[code.code].append(item.row)
        if not code.checksum_ok:
            item.row.add_warning("uscc", _("校验位不符，将照此登记并标记待核实"))
    for code, rows in rows_by_code.items():
        if len(rows) > 1:
            numbers = "、".join(str(row.number) for row in rows)
            for row in rows:
                row.add_error(
                    "uscc",
                    _("统一社会信用代码 %(code)s 在文件中重复（第%(rows)s行）") % {"code": code, "rows": numbers},
                )


def _flag_repeated_projects(parsed: list[_Parsed]) -> None:
    rows_by_project: dict[tuple[int, str], list[ImportRow]] = defaultdict(list)
    for item in parsed:
        if item.arguments["enterprise"] is not None:
            rows_by_project[item.arguments["enterprise"].pk, item.row.values["name"]].append(item.row)
    for rows in rows_by_project.values():
        if len(rows) > 1:
            numbers = "、".join(str(row.number) for row in rows)
            for row in rows:
                row.add_warning("name", _("同一企业的同名项目在文件中出现多次（第%(rows)s行）") % {"rows": numbers})


# Checking and writing through the register -----------------------------------------------------------------


def _register(kind: str) -> Callable:
    return register_enterprise if kind == ENTERPRISES else register_project


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise InvalidInput.field("kind", _("导入类型应为 enterprises（重点企业）或 projects（投资项目）"))


def _register_rows(actor: User, kind: str, upload, *, commit: bool) -> ImportPreview:
    """Register every row, each in its own savepoint so one bad row does not hide the next one's errors.

    Later rows see the earlier ones, exactly as the committed import would. Everything is rolled back unless
    `commit` is set and every row passed.
    """
    require_register_keeper(actor)
    _check_kind(kind)
    header, cells_by_row = _read_sheet(upload)
    parsed = _parse(kind, header, cells_by_row)
    register = _register(kind)
    registered_codes: set[str] = set()  # credit codes registered by earlier rows of this file
    with transaction.atomic():
        for item in parsed:
            row, arguments = item.row, dict(item.arguments)
            placeholder = kind == PROJECTS and arguments["enterprise"] is None
            if placeholder:
                # The enterprise is unknown (already reported), yet the register should still check the other
                # fields; an unsaved enterprise lets it, and can never be written.
                arguments["enterprise"] = Enterprise()
            try:
                with transaction.atomic():
                    created = register(actor=actor, **arguments)
            except Conflict as error:
                # A code an earlier row of this file registered is already reported as repeated in the file.
                if row.values.get("uscc") not in registered_codes:
                    for name in error.fields or ["row"]:
                        row.add_error(name, error.message)
            except ServiceError as error:
                for name, messages in (error.fields or {"row": [error.message]}).items():
                    if name not in row.errors:  # reading the file already said what is wrong with it
                        row.errors[name] = list(messages)
            except ValueError:
                if not placeholder:
                    raise
            except DataError:  # a value the database refuses (too long for its column); nothing of it is kept
                row.add_error("row", _("此行有内容超出长度或格式限制，无法保存"))
            else:
                if kind == ENTERPRISES:
                    registered_codes.add(created.uscc)
        preview = ImportPreview(kind=kind, rows=[item.row for item in parsed])
        if not (commit and preview.ok):
            transaction.set_rollback(True)
    return preview


def preview_import(*, actor: User, kind: str, upload) -> ImportPreview:
    """Read and check every row of an import file (`kind` "enterprises" or "projects") without keeping anything.

    Only those who may maintain the register may import (NotPermitted). A file that cannot be read, is empty,
    has no data rows, more than MAX_ROWS rows, or unknown / missing columns raises InvalidInput on "file".
    """
    return _register_rows(actor, kind, upload, commit=False)


def run_import(*, actor: User, kind: str, upload) -> ImportPreview:
    """Import every row of the file in one transaction, or none of them.

    If any row is wrong, raises InvalidInput naming each bad field as "row <Excel row>.<field>" and writes
    nothing; otherwise registers all rows through services.register.zone and returns the preview of what was imported.
    """
    preview = _register_rows(actor, kind, upload, commit=True)
    if not preview.ok:
        bad = preview.error_rows
        numbers = "、".join(str(row.number) for row in bad[:10]) + ("…" if len(bad) > 10 else "")
        raise InvalidInput(
            _("%(count)d行有误（第%(rows)s行），未导入任何数据") % {"count": len(bad), "rows": numbers},
            fields={f"row {row.number}.{name}": messages for row in bad for name, messages in row.errors.items()},
        )
    return preview


# The template ----------------------------------------------------------------------------------------------


def _help(column: Column) -> str:
    return str(column.help) % {
        "choices": "、".join(map(str, Industry.labels)),
        "tiers": "、".join(Tier.objects.values_list("name", flat=True)) or "—",
        "stages": "、".join(map(str, Project.Stage.labels)),
        "levels": "、".join(map(str, Project.Level.labels)),
    }


_LISTS = {
    "industry": lambda: Industry.labels,
    "is_key": lambda: [_("是"), _("否")],
    "stage": lambda: Project.Stage.labels,
    "level": lambda: Project.Level.labels,
}


def import_template(kind: str) -> bytes:
    """An empty import file for `kind`: the header row, drop-down lists for the fixed choices, and a second
    sheet "说明" explaining each column."""
    _check_kind(kind)
    columns = _COLUMNS[kind]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = str(_SHEET_TITLES[kind])
    sheet.append([str(column.header) for column in columns])
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    for index, column in enumerate(columns, 1):
        letter = get_column_letter(index)
        sheet.cell(row=1, column=index).font = bold
        dimension = sheet.column_dimensions[letter]
        dimension.width = max(12, 2 * len(str(column.header)) + 4)
        if column.text_format:
            dimension.number_format = "@"
        if column.field in _LISTS:
            validation = DataValidation(
                type="list", formula1='"{}"'.format(",".join(map(str, _LISTS[column.field]()))), allow_blank=True
            )
            validation.add(f"{letter}2:{letter}{MAX_ROWS + 1}")
            sheet.add_data_validation(validation)

    notes = workbook.create_sheet(_("说明"))
    notes.append([_("列名"), _("是否必填"), _("填写说明")])
    for cell in notes[1]:
        cell.font = bold
    for column in columns:
        notes.append([str(column.header), _("必填") if column.required else _("选填"), _help(column)])
    notes.append([])
    for line in (
        _("在第一个工作表中，从第2行起每行填写一条记录；列的顺序可以调整，表头文字不能改。"),
        _("每次最多导入%(max)d行。所有行都正确才会导入，有任何一行出错则全部不导入。") % {"max": MAX_ROWS},
        _("导入前可先预览，预览会列出每一行的问题。"),
    ):
        notes.append([line])
    notes.column_dimensions["A"].width = 18
    notes.column_dimensions["B"].width = 10
    notes.column_dimensions["C"].width = 70
    output = BytesIO()
    workbook.save(output)
    return output.getvalue()
