"""The notification settings: one switch per kind the user's role can receive."""
from wtforms import BooleanField

from crm.common.forms import BaseForm
from crm.notifications.models import KINDS


def settings_form(kinds, off):
    """A form with a switch for each of `kinds` (keys of KINDS), on unless in `off`."""

    class SettingsForm(BaseForm):
        pass

    for kind in kinds:
        setattr(SettingsForm, f"kind_{kind}", BooleanField(KINDS.label(kind), default=kind not in off))
    form = SettingsForm()
    form.kinds = list(kinds)
    return form


def wanted(form) -> set[str]:
    return {k for k in form.kinds if getattr(form, f"kind_{k}").data}
