"""What every field-work form shares: the idempotency key, the version, date and number checks."""
from datetime import date

from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, ValidationError

from crm.common.forms import BaseForm, strip_filter
from crm.common.timeutil import local_today
from crm.sync.forms import KeyedForm
from crm.common.numbers import id_list, to_int

NON_NEGATIVE = NumberRange(min=0, max=1_000_000, message="请填写不小于 0 的整数")
EARLIEST = date(2000, 1, 1)


def not_future(form, field):
    if field.data and field.data > local_today():
        raise ValidationError("日期不能晚于今天")
    if field.data and field.data < EARLIEST:
        raise ValidationError("日期太早，请检查年份")


def sensible_date(form, field):
    """A date that may lie ahead (a next step) but not absurdly far."""
    if field.data and not (EARLIEST <= field.data <= date(local_today().year + 5, 12, 31)):
        raise ValidationError("日期超出合理范围，请检查年份")


def int_list(values):
    """The record ids among posted values (see crm.common.numbers.id_list)."""
    return id_list(values)


class FieldWorkForm(KeyedForm):
    """form_key (KeyedForm): the idempotency key; on an edit form it groups the photos sent with
    the edit. version: the record version an edit was made on."""
    version = HiddenField()

    def expected_version(self):
        return to_int(self.version.data or 0, 0) or 0


def summary_field(label="内容摘要", required=True):
    validators = [Length(max=5000)]
    if required:
        validators.insert(0, DataRequired(f"请填写{label}"))
    return TextAreaField(label, filters=[strip_filter], validators=validators, render_kw={"rows": 4})


class ArchiveRecordForm(BaseForm):
    reason = StringField("归档原因", filters=[strip_filter],
                         validators=[DataRequired("请填写归档原因"), Length(max=200)])


def when_parsed(validator):
    """Run `validator` only on a value that parsed: "abc" in a number box gets the one message
    "请填写整数", not a range message as well."""
    def check(form, field):
        if field.data is not None and not field.process_errors:
            validator(form, field)
    return check


COUNT = when_parsed(NON_NEGATIVE)


class ServedEnterprisesMixin:
    """The enterprises served come from the picker's hidden inputs (`enterprise_ids`), not from
    a WTForms field; a refusal by the service is shown next to the picker."""
    enterprise_errors: list = []

    def show_service_error(self, exc):
        if getattr(exc, "field", None) == "enterprise_ids":
            self.enterprise_errors = [str(exc)]
            return
        super().show_service_error(exc)
