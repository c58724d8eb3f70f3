"""Loading seeds: the reference data from YAML, and blocks of the generated zone. Running twice changes nothing."""

import time
from collections.abc import Callable
from pathlib import Path

import yaml
from django.db import transaction

from seeds.generator import DEMO_PASSWORD, ZoneGenerator, marker_username
from services.register.reference import load_reference
from tracker.models import User

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
REFERENCE_FILES = {
    "categories": "categories.yaml",
    "departments": "departments.yaml",
    "tiers": "tiers.yaml",
    "task_forces": "task_forces.yaml",
}


def read_reference() -> dict[str, list[dict]]:
    return {
        key: yaml.safe_load((REFERENCE_DIR / filename).read_text(encoding="utf-8"))
        for key, filename in REFERENCE_FILES.items()
    }


def load_reference_data() -> dict[str, int]:
    return load_reference(read_reference())


def load_zone(*, scale: int = 1, log: Callable[[str], None] = print) -> dict[int, dict[str, int]]:
    """Load blocks 0..scale-1 of the generated zone, skipping blocks already there. Returns counts per new block."""
    loaded = {}
    for block in range(scale):
        if User.objects.filter(username=marker_username(block)).exists():
            log(f"block {block}: already loaded, nothing to do")
            continue
        started = time.perf_counter()
        with transaction.atomic():
            counts = ZoneGenerator(block=block).generate()
        counts["seconds"] = round(time.perf_counter() - started, 1)
        log(f"block {block}: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
        loaded[block] = counts
    return loaded


DEMO_LOGINS = [
    ("admin", "系统管理员（全部权限）"),
    ("leader01", "领导：审批延期、督办、全区数据"),
    ("concierge001", "服务专员：挂钩企业的诉求"),
    ("economic_development1", "部门经办人（经济发展局科长）"),
    ("ent0001", "企业用户：在 /portal/ 提交和跟踪本企业诉求"),
]


def demo_logins() -> list[tuple[str, str, str]]:
    """(username, password, what they can do) for the demo logins that exist."""
    present = set(User.objects.filter(username__in=[u for u, _ in DEMO_LOGINS]).values_list("username", flat=True))
    return [(u, DEMO_PASSWORD, what) for u, what in DEMO_LOGINS if u in present]
