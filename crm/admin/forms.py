"""Admin forms: org units and user accounts. Choices for org units are filled in by the views."""
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from crm.auth.models import ROLES
from crm.common.forms import BaseForm, strip_filter
from crm.common.numbers import coerce_id
from crm.org.models import ORG_KINDS
from crm.settings.services import DEFINITIONS

# The "no parent" choice of the parent picker (only offered while the tree has no root).
NO_PARENT = 0


class OrgUnitForm(BaseForm):
    name = StringField("单位名称", filters=[strip_filter],
                       validators=[DataRequired("请填写单位名称"), Length(max=100, message="单位名称不能超过 100 个字")])
    kind = SelectField("单位类型", choices=ORG_KINDS.form_choices(), default="town")
    parent = SelectField("上级单位", coerce=coerce_id)


class RenameOrgUnitForm(BaseForm):
    name = StringField("新名称", filters=[strip_filter],
                       validators=[DataRequired("请填写单位名称"), Length(max=100, message="单位名称不能超过 100 个字")])


class MoveOrgUnitForm(BaseForm):
    parent = SelectField("移动到（新的上级单位）", coerce=coerce_id,
                         validators=[DataRequired("请选择新的上级单位")])


class UserEditForm(BaseForm):
    name = StringField("姓名", filters=[strip_filter],
                       validators=[DataRequired("请填写姓名"), Length(max=64, message="姓名不能超过 64 个字")])
    role = SelectField("角色", choices=ROLES.form_choices(), default="staff")
    org_unit = SelectField("所属单位", coerce=coerce_id, validators=[DataRequired("请选择所属单位")])
    active = BooleanField("账号启用", default=True)


class UserCreateForm(BaseForm):
    username = StringField("用户名", filters=[strip_filter],
                           validators=[DataRequired("请填写用户名"), Length(max=64, message="用户名不能超过 64 位")],
                           description="登录用，英文字母、数字、下划线、点或连字符",
                           render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"})
    name = StringField("姓名", filters=[strip_filter],
                       validators=[DataRequired("请填写姓名"), Length(max=64, message="姓名不能超过 64 个字")])
    role = SelectField("角色", choices=ROLES.form_choices(), default="staff")
    org_unit = SelectField("所属单位", coerce=coerce_id, validators=[DataRequired("请选择所属单位")])
    password = PasswordField("初始密码", validators=[DataRequired("请填写初始密码"), Length(max=128)],
                             description="至少 10 个字符，不要使用常见密码",
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("再输入一次密码", validators=[EqualTo("password", "两次输入的密码不一致")],
                            render_kw={"autocomplete": "new-password"})


class PasswordResetForm(BaseForm):
    password = PasswordField("新密码", validators=[Optional(), Length(max=128)],
                             description="留空则由系统生成一个随机密码，只显示一次",
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("再输入一次新密码", render_kw={"autocomplete": "new-password"})

    def validate_confirm(self, field):
        if (self.password.data or "") and field.data != self.password.data:
            raise ValidationError("两次输入的密码不一致")


def settings_form_class():
    """One integer field per admin setting (crm.settings.services.DEFINITIONS), with its bounds."""
    from wtforms import IntegerField
    from wtforms.validators import InputRequired, NumberRange


    class SettingsForm(BaseForm):
        pass

    for d in DEFINITIONS:
        setattr(SettingsForm, field_name(d.key), IntegerField(
            f"{d.label}（{d.unit}）", description=f"{d.help}。默认 {d.default}，可设 {d.low}–{d.high}。",
            validators=[InputRequired(f"请填写{d.label}"),
                        NumberRange(d.low, d.high, f"应在 {d.low}–{d.high} {d.unit}之间")]))
    return SettingsForm


def field_name(key: str) -> str:
    return key.replace(".", "_")
