from wtforms import (DateField, IntegerField, RadioField, SelectField, SelectMultipleField, StringField,
                     TextAreaField, TimeField)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from crm.common.numbers import coerce_id
from crm.common.forms import MultiCheckboxField, strip_filter
from crm.fieldwork.choices import (MEETING_FORMATS, MEETING_KINDS, MEETING_LEVELS, NEED_CATEGORIES, PARTNERS,
                                   POINT_KINDS, SERVICES, TARGET_GROUPS)
from crm.fieldwork.forms import NON_NEGATIVE, FieldWorkForm, not_future, summary_field
from crm.needs.forms import RaisedNeedsMixin, add_note_fields

OUT_OF_SCOPE = "所选单位不在您的管辖范围内或已停用"


def optional_int(value):
    """A select whose blank option means "none"."""
    if value in (None, "", "None"):
        return None
    return int(value)


def _count(label):
    """A count: empty until typed (empty is 0), a number keypad on a tablet."""
    return IntegerField(label, validators=[Optional(), NON_NEGATIVE],
                        render_kw={"inputmode": "numeric", "min": 0, "autocomplete": "off"})


class MeetingForm(RaisedNeedsMixin, FieldWorkForm):
    kind = RadioField("类型", choices=list(MEETING_KINDS), default="staff",
                      validators=[DataRequired("请选择沟通会类型")])
    level = RadioField("级别", choices=list(MEETING_LEVELS), default="routine",
                       validators=[DataRequired("请选择级别")])
    format = RadioField("形式", choices=list(MEETING_FORMATS), default="face",
                        validators=[DataRequired("请选择形式")])
    org_unit = SelectField("组织单位", coerce=coerce_id, validators=[DataRequired("请选择组织单位")],
                           invalid_choice_message=OUT_OF_SCOPE)
    held_on = DateField("日期", validators=[InputRequired("请填写日期"), not_future])
    start_time = TimeField("时间", validators=[Optional()])
    title = StringField("主题", filters=[strip_filter], validators=[Length(max=200)])
    venue = StringField("地点", filters=[strip_filter], validators=[Length(max=200)])
    point = SelectField("固定点位", coerce=optional_int, choices=[], default=None,
                        invalid_choice_message="所选固定点位已归档或不在您的管辖范围内")
    target_groups = MultiCheckboxField("面向群体", choices=list(TARGET_GROUPS))
    attendees = _count("参加人数（纸质登记）")
    cards = _count("会员互助服务卡办理数")
    services = MultiCheckboxField("服务内容", choices=list(SERVICES))
    partners = MultiCheckboxField("合作单位", choices=list(PARTNERS))
    # The enterprise picker's hidden inputs; which ids may be used is the service's decision.
    enterprise_ids = SelectMultipleField("参会企业", coerce=coerce_id, choices=[], validate_choice=False)
    summary = summary_field("内容摘要")
    need_categories = MultiCheckboxField("需求意见", choices=list(NEED_CATEGORIES))

    def group_fields(self):
        """(group label, its 新入会人数 field) of each target group, in the vocabulary's order."""
        return [(label, getattr(self, f"new_{key}")) for key, label in TARGET_GROUPS]

    def service_data(self):
        data = {name: getattr(self, name).data for name in (
            "kind", "level", "format", "org_unit", "held_on", "start_time", "title", "venue", "point",
            "target_groups", "attendees", "cards", "services", "partners", "enterprise_ids", "summary")}
        data |= self.needs_data()
        data["new_members"] = {key: getattr(self, f"new_{key}").data or 0 for key, _ in TARGET_GROUPS}
        return data


for _key, _label in TARGET_GROUPS:
    setattr(MeetingForm, f"new_{_key}", _count(f"纸质登记新入会人数·{_label}"))
add_note_fields(MeetingForm)


class PointForm(FieldWorkForm):
    name = StringField("名称", filters=[strip_filter],
                       validators=[DataRequired("请填写点位名称"), Length(max=100)])
    address = StringField("地址", filters=[strip_filter], validators=[Length(max=300)])
    org_unit = SelectField("所属工会", coerce=coerce_id, validators=[DataRequired("请选择所属工会")],
                           invalid_choice_message=OUT_OF_SCOPE)
    kind = RadioField("类型", choices=list(POINT_KINDS), validators=[DataRequired("请选择点位类型")])
    schedule = StringField("活动时间", filters=[strip_filter], validators=[Length(max=100)],
                           description="如：每周四上午")
    target_groups = MultiCheckboxField("常见群体", choices=list(TARGET_GROUPS))
    notes = TextAreaField("备注", filters=[strip_filter], validators=[Length(max=2000)], render_kw={"rows": 2})

    def service_data(self):
        return {name: getattr(self, name).data for name in (
            "name", "address", "org_unit", "kind", "schedule", "target_groups", "notes")}
