"""The base form: Chinese built-in messages, and helpers shared by feature forms."""
from flask import g, has_request_context
from flask_wtf import FlaskForm
from wtforms import (HiddenField, IntegerField, SelectMultipleField, StringField, TextAreaField,
                     widgets)
from wtforms.i18n import get_translations
from wtforms.validators import StopValidation

from crm.common.numbers import INT_MAX, INT_MIN
from crm.common.text import safe_text

# Every message WTForms itself may give, in Chinese (its own zh catalogue misses some, and some
# of its wording reads like a translation).
MESSAGES = {
    "This field is required.": "此项为必填",
    "Not a valid choice.": "不是可选的选项",
    "'%(value)s' is not a valid choice for this field.": "所选的“%(value)s”不是可选的选项",
    "'%(value)s' are not valid choices for this field.": "所选的“%(value)s”不是可选的选项",
    "Invalid Choice: could not coerce.": "不是可选的选项",
    "Invalid choice(s): one or more data inputs could not be coerced.": "所选的项中有不可选的选项",
    "Choices cannot be None.": "没有可选的选项",
    "Not a valid integer value.": "请填写整数",
    "Not a valid decimal value.": "请填写数字",
    "Not a valid float value.": "请填写数字",
    "Not a valid date value.": "日期格式不正确，应为 2026-05-01",
    "Not a valid datetime value.": "日期时间格式不正确",
    "Not a valid time value.": "时间格式不正确，应为 09:30",
    "Not a valid week value.": "周的格式不正确",
    "Number must be at least %(min)s.": "不能小于 %(min)s",
    "Number must be at most %(max)s.": "不能大于 %(max)s",
    "Number must be between %(min)s and %(max)s.": "应在 %(min)s 到 %(max)s 之间",
    "Date must be at least %(min)s.": "日期不能早于 %(min)s",
    "Date must be at most %(max)s.": "日期不能晚于 %(max)s",
    "Date must be between %(min)s and %(max)s.": "日期应在 %(min)s 到 %(max)s 之间",
    "Field cannot be longer than %(max)d character.": "不能超过 %(max)d 个字",
    "Field cannot be longer than %(max)d characters.": "不能超过 %(max)d 个字",
    "Field must be at least %(min)d character long.": "至少需要 %(min)d 个字",
    "Field must be at least %(min)d characters long.": "至少需要 %(min)d 个字",
    "Field must be exactly %(max)d character long.": "应为 %(max)d 个字",
    "Field must be exactly %(max)d characters long.": "应为 %(max)d 个字",
    "Field must be between %(min)d and %(max)d characters long.": "应为 %(min)d 到 %(max)d 个字",
    "Invalid input.": "输入无效",
    "This field cannot be edited.": "此项不能修改",
    "This field is disabled and cannot have a value.": "此项不能填写",
}


class ChineseMessages:
    """WTForms' translations object: our Chinese for its built-in messages."""

    def __init__(self):
        self._zh = get_translations(["zh_CN", "zh"])

    def gettext(self, string):
        return MESSAGES.get(string) or self._zh.gettext(string)

    def ngettext(self, singular, plural, n):
        return MESSAGES.get(singular if n == 1 else plural) or self._zh.ngettext(singular, plural, n)


_MESSAGES = ChineseMessages()


def _fits_integer(form, field):
    """First of an integer field's checks: a number no column holds stops there (a later
    NumberRange would compare it as a float, which overflows for hundreds of digits)."""
    if field.data is not None and not (INT_MIN <= field.data <= INT_MAX):
        raise StopValidation("数值太大，请检查")


def _one_line(value):
    return safe_text(value, multiline=False)


def _multi_line(value):
    return safe_text(value, multiline=True)


class BaseForm(FlaskForm):
    class Meta:
        locales = ["zh_CN", "zh"]

        def get_translations(self, form):
            return _MESSAGES

        def bind_field(self, form, unbound_field, options):
            """Every form cleans its text at the boundary (no control characters, lone
            surrogates or non-characters: see crm.common.text.safe_text) and takes no integer a
            database column cannot hold."""
            kind = unbound_field.field_class
            if issubclass(kind, TextAreaField):
                options["filters"] = [_multi_line, *unbound_field.kwargs.get("filters", ())]
            elif issubclass(kind, (StringField, HiddenField)):
                options["filters"] = [_one_line, *unbound_field.kwargs.get("filters", ())]
            elif issubclass(kind, IntegerField):
                options["validators"] = [_fits_integer, *unbound_field.kwargs.get("validators", ())]
            return super().bind_field(form, unbound_field, options)

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
