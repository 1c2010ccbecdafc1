from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import Length

from crm.common.forms import BaseForm
from crm.fieldwork.choices import TARGET_GROUPS
from crm.members.choices import PLATFORMS


class SignUpForm(BaseForm):
    """The worker's form. Checks are the service's (crm.members.services.check): its message goes
    next to the field, and everything typed stays."""
    name = StringField("姓名", validators=[Length(max=200)], render_kw={"autocomplete": "name", "maxlength": 50})
    phone = StringField("手机号", validators=[Length(max=40)],
                        render_kw={"autocomplete": "tel", "inputmode": "tel", "maxlength": 20})
    group = SelectField("职业群体", choices=TARGET_GROUPS.form_choices("请选择"), validate_choice=False)
    platform = SelectField("所在平台或单位", choices=PLATFORMS.form_choices("请选择"), validate_choice=False)
    employer = StringField("单位名称（选“其他单位”时填写）", validators=[Length(max=200)], render_kw={"maxlength": 100})
    station = StringField("站点（选填）", validators=[Length(max=200)], render_kw={"maxlength": 100})
    consent = BooleanField("我已阅读并同意上述说明")
    website = StringField("网址（请留空）", validators=[Length(max=200)],
                          render_kw={"autocomplete": "off", "tabindex": "-1"})

    def answers(self) -> dict:
        return {name: self[name].data for name in ("name", "phone", "group", "platform", "employer", "station",
                                                   "consent", "website")}
