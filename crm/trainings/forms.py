from wtforms import DateField, DecimalField, IntegerField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, StopValidation

from crm.common.numbers import coerce_id
from crm.common.forms import strip_filter
from crm.fieldwork.choices import TRAINING_CATEGORIES
from crm.fieldwork.forms import (COUNT, FieldWorkForm, ServedEnterprisesMixin, not_future, summary_field,
                                 when_parsed)

MAX_HOURS = 24


def finite(form, field):
    """NaN and infinity parse as decimals but are not numbers of hours."""
    if field.data is not None and not field.data.is_finite():
        raise StopValidation("学时应为数字")


HOURS_RANGE = when_parsed(NumberRange(min=0, max=MAX_HOURS, message=f"学时应在 0 到 {MAX_HOURS} 之间"))


class TrainingForm(ServedEnterprisesMixin, FieldWorkForm):
    title = StringField("培训名称", filters=[strip_filter],
                        validators=[DataRequired("请填写培训名称"), Length(max=200)],
                        description="如：职工素质提升培训——安全生产知识")
    held_on = DateField("培训日期", validators=[InputRequired("请填写培训日期"), not_future])
    category = RadioField("类别", choices=list(TRAINING_CATEGORIES), default="quality",
                          validators=[DataRequired("请选择培训类别")])
    hours = DecimalField("学时", places=1, validators=[Optional(), finite, HOURS_RANGE],
                         render_kw={"min": 0, "max": MAX_HOURS, "step": "0.5", "inputmode": "decimal"})
    participants = IntegerField("参训人数", default=0, validators=[Optional(), COUNT],
                                render_kw={"min": 0, "inputmode": "numeric"})
    trainer = StringField("授课人", filters=[strip_filter], validators=[Length(max=100)])
    org_unit = SelectField("组织单位", coerce=coerce_id, choices=[], validators=[DataRequired("请选择组织单位")])
    summary = summary_field("内容摘要")

    def service_data(self, enterprise_ids):
        data = {name: getattr(self, name).data for name in (
            "title", "held_on", "category", "hours", "participants", "trainer", "org_unit", "summary")}
        data["enterprise_ids"] = list(enterprise_ids)
        return data
