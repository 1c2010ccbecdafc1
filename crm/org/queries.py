"""Reads of the org-unit tree shared by feature views."""
from crm.org.models import OrgUnit


def subtree_ids(unit):
    """A subquery of the ids of `unit` and every unit below it (its path is a prefix of theirs)."""
    return OrgUnit.select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path))


def unit_choices(units, base_depth=0, include=None):
    """(id, indented name) pairs for a unit picker, in the given (tree) order. `include` keeps
    a record's current unit selectable even when it is no longer offered (deactivated)."""
    choices = [(u.id, "　" * max(0, u.depth - base_depth) + u.name) for u in units]
    if include is not None and include.id not in {c[0] for c in choices}:
        choices.append((include.id, include.name + "（已停用）"))
    return choices
