from wtforms import DateField, HiddenField, RadioField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from crm.common.numbers import coerce_id
from crm.common.forms import BaseForm, MultiCheckboxField, strip_filter
from crm.fieldwork.choices import NEED_CATEGORIES, VISIT_KINDS, VISIT_PURPOSES
from crm.fieldwork.forms import FieldWorkForm, not_future, sensible_date, summary_field


def _float(value):
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if abs(number) <= 180 else None


class VisitForm(FieldWorkForm):
    visited_on = DateField("走访日期", validators=[InputRequired("请填写走访日期"), not_future])
    visit_time = TimeField("时间", validators=[Optional()])
    kind = RadioField("走访方式", choices=list(VISIT_KINDS), default="door",
                      validators=[DataRequired("请选择走访方式")])
    purposes = MultiCheckboxField("走访目的", choices=list(VISIT_PURPOSES))
    summary = summary_field("内容摘要")
    contacts_met = StringField("见到的联系人", filters=[strip_filter], validators=[Length(max=300)],
                               description="如：王经理（人事）、张主管")
    need_categories = MultiCheckboxField("企业需求意见", choices=list(NEED_CATEGORIES))
    need_detail = TextAreaField("需求意见说明", filters=[strip_filter], validators=[Length(max=2000)],
                                render_kw={"rows": 2})
    outcome = TextAreaField("走访结果", filters=[strip_filter], validators=[Length(max=2000)],
                            render_kw={"rows": 2})
    next_step = StringField("下一步", filters=[strip_filter], validators=[Length(max=300)])
    next_step_on = DateField("下一步日期", validators=[Optional(), sensible_date])
    move_to = SelectField("同时变更建会进度", choices=[], default="")
    move_note = StringField("进度说明", filters=[strip_filter], validators=[Length(max=500)],
                            description="跨阶段、回退或转入特殊状态时必填")
    visitor_ids = MultiCheckboxField("走访人", coerce=coerce_id, choices=[])
    latitude = HiddenField(filters=[_float])
    longitude = HiddenField(filters=[_float])
    accuracy_m = HiddenField(filters=[_float])

    def service_data(self):
        return {name: getattr(self, name).data for name in (
            "visited_on", "visit_time", "kind", "purposes", "summary", "contacts_met", "need_categories",
            "need_detail", "outcome", "next_step", "next_step_on", "move_to", "move_note",
            "visitor_ids", "latitude", "longitude", "accuracy_m")}


class CommentForm(BaseForm):
    text = TextAreaField("点评", filters=[strip_filter],
                         validators=[DataRequired("请填写点评内容"), Length(max=2000)], render_kw={"rows": 2})
