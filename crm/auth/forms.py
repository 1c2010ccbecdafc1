from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired("请输入用户名"), Length(max=64)],
                           render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField("密码", validators=[DataRequired("请输入密码"), Length(max=128)],
                             render_kw={"autocomplete": "current-password"})


class ChangePasswordForm(FlaskForm):
    current = PasswordField("当前密码", validators=[DataRequired("请输入当前密码")],
                            render_kw={"autocomplete": "current-password"})
    new = PasswordField("新密码", validators=[DataRequired("请输入新密码"), Length(max=128)],
                        render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("确认新密码", validators=[EqualTo("new", "两次输入的密码不一致")],
                            render_kw={"autocomplete": "new-password"})



def _code_field(label="验证码", message="请输入身份验证器里显示的 6 位数字", focus=True):
    return StringField(label, validators=[DataRequired(message), Length(max=32)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric",
                                  "autocapitalize": "none", "spellcheck": "false",
                                  **({"autofocus": True} if focus else {})})


class CodeForm(FlaskForm):
    code = _code_field()


class AccountCodeForm(FlaskForm):
    """The code an account change asks for, on a page that is read first (no focus)."""
    code = _code_field("当前验证码", "请输入身份验证器里当前的 6 位数字，或一个恢复码", focus=False)


class RecoveryForm(FlaskForm):
    code = StringField("恢复码", validators=[DataRequired("请输入一个恢复码"), Length(max=32)],
                       description="设置两步验证时显示的 10 个恢复码之一，形如 abcd-2345，每个只能用一次",
                       render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false",
                                  "autofocus": True})


class ReplaceForm(FlaskForm):
    """A new authenticator in place of the one in use: a code from the old one as well."""
    current = StringField("原验证器的验证码（或一个恢复码）",
                          validators=[DataRequired("请输入原身份验证器里的验证码，或一个恢复码"), Length(max=32)],
                          render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false",
                                     "autofocus": True})
    code = _code_field("新验证器显示的验证码", focus=False)
