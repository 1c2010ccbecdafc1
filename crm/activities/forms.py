from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from crm.common.numbers import coerce_id
from crm.common.forms import MultiCheckboxField, strip_filter
from crm.fieldwork.choices import PARTNERS, SERVICES, TARGET_GROUPS
from crm.fieldwork.forms import COUNT, FieldWorkForm, not_future, ServedEnterprisesMixin, summary_field

NEW_MEMBERS_TOO_MANY = "新入会人数不能超过服务人数"


def _not_above_participants(form, field):
    if field.data is not None and not field.process_errors and not form.participants.process_errors \
            and field.data > (form.participants.data or 0):
        raise ValidationError(NEW_MEMBERS_TOO_MANY)


class ActivityForm(ServedEnterprisesMixin, FieldWorkForm):
    title = StringField("活动名称", filters=[strip_filter],
                        validators=[DataRequired("请填写活动名称"), Length(max=200)],
                        description="如：夏季站点慰问、骑手便民服务日")
    held_on = DateField("活动日期", validators=[InputRequired("请填写活动日期"), not_future])
    services = MultiCheckboxField("服务内容", choices=list(SERVICES))
    point = SelectField("固定点位", choices=[], default="")
    place = StringField("地点", filters=[strip_filter], validators=[Length(max=200)],
                        description="选择固定点位时可不填，默认用点位名称")
    org_unit = SelectField("组织单位", coerce=coerce_id, choices=[], validators=[DataRequired("请选择组织单位")])
    target_groups = MultiCheckboxField("面向群体", choices=list(TARGET_GROUPS))
    partners = MultiCheckboxField("合作单位", choices=list(PARTNERS))
    participants = IntegerField("服务人数", default=0, validators=[Optional(), COUNT],
                                render_kw={"min": 0, "inputmode": "numeric"})
    new_members = IntegerField("新入会人数", default=0,
                               validators=[Optional(), COUNT, _not_above_participants],
                               render_kw={"min": 0, "inputmode": "numeric"})
    summary = summary_field("内容摘要", required=False)

    def service_data(self, enterprise_ids):
        data = {name: getattr(self, name).data for name in (
            "title", "held_on", "services", "place", "org_unit", "target_groups", "partners",
            "participants", "new_members", "summary")}
        data["point"] = int(self.point.data) if (self.point.data or "").isdigit() else None
        data["enterprise_ids"] = list(enterprise_ids)
        return data
