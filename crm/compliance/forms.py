from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange

from crm.common.numbers import coerce_id
from crm.common.forms import BaseForm, strip_filter


class RuleSettingForm(BaseForm):
    rule = SelectField("规则", choices=[])
    org_unit = SelectField("适用单位", coerce=coerce_id, choices=[])
    enabled = BooleanField("适用（关闭则该单位不考核此项）", default=True)
    target = IntegerField("目标", validators=[InputRequired("请填写目标"), NumberRange(1, 100, "目标应在 1–100 之间")],
                          description="沟通会规则填每月最少场数；企业走访和覆盖规则填百分比")
    effective_from = DateField("生效日期", validators=[InputRequired("请填写生效日期")],
                               description="从这一天起的整月按新目标考核（不是1日的，从下个月起）；之前的月份不受影响")
    note = StringField("说明", filters=[strip_filter], validators=[Length(max=200)])
