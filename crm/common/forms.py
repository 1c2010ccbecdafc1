"""The base form: Chinese built-in messages, and helpers shared by feature forms."""
from flask import g, has_request_context
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, widgets


class BaseForm(FlaskForm):
    class Meta:
        locales = ["zh_CN", "zh"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if has_request_context():  # the request's forms, whose messages an answer in JSON carries
            g.setdefault("forms", []).append(self)

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


def take_form_errors() -> list[tuple[str, str]]:
    """(field label, message) of every message on the request's forms, the refusal of a key
    included: what a sender that reads JSON is told instead of the page."""
    out = []
    for form in g.get("forms", []):
        refused = getattr(form, "refused", None)
        if refused:
            out.append(("提交标识", refused))
        for name, field in form._fields.items():
            for message in field.errors if isinstance(field.errors, list) else []:
                out.append((str(field.label.text) if field.label else name, str(message)))
    return out
