"""The base form: Chinese built-in messages, and helpers shared by feature forms."""
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, widgets


class BaseForm(FlaskForm):
    class Meta:
        locales = ["zh_CN", "zh"]

    def apply_service_error(self, exc) -> bool:
        """Put a ServiceError's message next to its field. False when it names no field here."""
        target = getattr(self, exc.field, None) if getattr(exc, "field", None) else None
        if target is None:
            return False
        target.errors = list(target.errors or []) + [str(exc)]
        return True

    def show_service_error(self, exc):
        """The message next to its field, or as a flash message when it names none here."""
        if not self.apply_service_error(exc):
            from flask import flash
            flash(str(exc), "error")


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def strip_filter(value):
    return value.strip() if isinstance(value, str) else value
