"""Role decisions are named rules (crm.permissions), in code and templates alike; states carry
their labels and badge classes with their choices."""
import re
from pathlib import Path

import pytest

from crm.fieldwork.choices import NEED_STATUSES
from crm.followups.models import STATUSES
from crm.permissions import RULES, can

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = {
    "staff": {"edit_records", "own_tasks_only", "receive_tasks"},
    "supervisor": {"edit_records", "supervise", "bulk_edit_firms", "lead_team", "receive_tasks"},
    "viewer": {"read_only"},
    "admin": {"edit_records", "supervise", "bulk_edit_firms", "manage_system", "manage_backups", "rebuild_stats",
              "see_district"},
}
# Where a role may be named: the rules themselves and the user model (is_admin_role); the demo
# data picks its people by role.
ROLE_HOME = {"crm/permissions.py", "crm/auth/models.py"}
ROLE_TEST = re.compile(r"""\.role(\.data)?\s*(==|!=|in\b|not in\b)|role\s*(==|!=)\s*['"]""")


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_each_role_passes_its_rules_and_no_other(app, make, role):
    user = make.user(role)
    with app.test_request_context():
        assert {name for name in RULES if can(name, user)} == EXPECTED[role]


def test_no_role_is_compared_outside_the_rules():
    found = []
    for path in list((ROOT / "crm").rglob("*.py")) + list((ROOT / "templates").rglob("*.html")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in ROLE_HOME or rel.startswith(("crm/demo/", "crm/_templates/", "crm/_migrations/")):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if ROLE_TEST.search(line) and "User.role" not in line and "role == k" not in line:
                found.append(f"{rel}:{number}: {line.strip()[:100]}")
    assert found == []


def test_states_carry_their_badges():
    assert NEED_STATUSES.badge("resolved") == "text-bg-success" and NEED_STATUSES.badge("open") == "text-bg-warning"
    assert STATUSES.badge("done") == "text-bg-success" and STATUSES.badge("cancelled") == "text-bg-secondary"
    html = (ROOT / "templates/_macros/badges.html").read_text(encoding="utf-8")
    assert "status_class" in html and "status_label" in html
