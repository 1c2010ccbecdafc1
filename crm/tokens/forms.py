from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from crm.common.forms import BaseForm
from crm.tokens.services import DAYS, DEFAULT_DAYS, SCOPES


class TokenForm(BaseForm):
    name = StringField("名称（用途）", validators=[DataRequired("请填写令牌名称，例如“智慧工会平台”"), Length(max=60)],
                       render_kw={"placeholder": "例如：智慧工会平台、BI 看板"})
    scope = SelectField("权限范围", choices=SCOPES.form_choices(), default="read")
    days = SelectField("有效期", choices=[(str(d), f"{d} 天") for d in DAYS], default=str(DEFAULT_DAYS))
