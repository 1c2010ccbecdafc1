from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from crm.common.forms import BaseForm, strip_filter
from crm.common.numbers import to_int
from crm.fieldwork.choices import TARGET_GROUPS
from crm.members.choices import PLATFORMS


class MemberForm(BaseForm):
    """Staff correct a member's details. Checks are the service's (update_member): its message
    goes next to the field, and everything typed stays."""
    name = StringField("姓名", validators=[Length(max=200)], render_kw={"maxlength": 50, "autocomplete": "off"})
    group = SelectField("职业群体", choices=TARGET_GROUPS.form_choices("请选择"), validate_choice=False)
    platform = SelectField("所在平台或单位", choices=PLATFORMS.form_choices("（未填写）"), validate_choice=False)
    employer = StringField("单位名称（选“其他单位”时填写）", validators=[Length(max=200)], render_kw={"maxlength": 100})
    station = StringField("站点", validators=[Length(max=200)], render_kw={"maxlength": 100})
    version = HiddenField()

    def expected_version(self) -> int:
        return to_int(self.version.data or 0, 0) or 0

    def service_data(self, enterprise_ids) -> dict:
        return {"name": self.name.data, "group": self.group.data, "platform": self.platform.data,
                "employer": self.employer.data, "station": self.station.data, "enterprise_ids": enterprise_ids}


class EraseForm(BaseForm):
    reason = StringField("删除依据", filters=[strip_filter],
                         validators=[DataRequired("请填写删除依据（如本人申请的日期和方式）"), Length(max=200)],
                         render_kw={"placeholder": "如：本人 12 月 2 日电话申请删除"})
    confirm = BooleanField("我已核实是本人申请，确认删除其个人信息（无法恢复）",
                           validators=[DataRequired("请勾选确认")])


class ActionForm(BaseForm):
    """A button's form: the CSRF token only (办理互助卡, 显示完整号码 …)."""
