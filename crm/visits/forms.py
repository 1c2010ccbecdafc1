from wtforms import (BooleanField, DateField, HiddenField, RadioField, SelectField, StringField, TextAreaField,
                     TimeField)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from crm.common.numbers import coerce_id
from crm.common.forms import BaseForm, MultiCheckboxField, strip_filter
from crm.fieldwork.choices import NEED_CATEGORIES, VISIT_KINDS, VISIT_PURPOSES
from crm.fieldwork.forms import FieldWorkForm, not_future, sensible_date, summary_field
from crm.needs.forms import RaisedNeedsMixin, add_note_fields


def _float(value):
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if abs(number) <= 180 else None


class VisitForm(RaisedNeedsMixin, FieldWorkForm):
    visited_on = DateField("走访日期", validators=[InputRequired("请填写走访日期"), not_future])
    visit_time = TimeField("时间", validators=[Optional()])
    kind = RadioField("走访方式", choices=list(VISIT_KINDS), default="door",
                      validators=[DataRequired("请选择走访方式")])
    purposes = MultiCheckboxField("走访目的", choices=list(VISIT_PURPOSES))
    summary = summary_field("内容摘要")
    # 见到的联系人: the file's contacts (which of them is the service's decision) and, in free
    # text, someone who is not one of them yet, who may be added as a contact with the visit.
    contact_ids = MultiCheckboxField("见到的联系人", coerce=coerce_id, choices=[], validate_choice=False)
    contacts_met = StringField("其他见到的人", filters=[strip_filter], validators=[Length(max=300)],
                               description="不在联系人中的人，如：张主管（行政）")
    add_contact = BooleanField("添加为联系人", render_kw={"data-add-contact": ""})
    new_contact_title = StringField("联系人职务", filters=[strip_filter], validators=[Length(max=64)])
    new_contact_phone = StringField("联系人电话", filters=[strip_filter], validators=[Length(max=32)],
                                    render_kw={"inputmode": "tel", "autocomplete": "off"})
    need_categories = MultiCheckboxField("企业需求意见", choices=list(NEED_CATEGORIES))
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
            "visited_on", "visit_time", "kind", "purposes", "summary", "contact_ids", "contacts_met",
            "add_contact", "new_contact_title", "new_contact_phone", "outcome", "next_step", "next_step_on",
            "move_to", "move_note", "visitor_ids", "latitude", "longitude", "accuracy_m")} | self.needs_data()


add_note_fields(VisitForm)


class CommentForm(BaseForm):
    text = TextAreaField("点评", filters=[strip_filter],
                         validators=[DataRequired("请填写点评内容"), Length(max=2000)], render_kw={"rows": 2})
