"""The endpoint form (admins). The unit picker's choices are filled in by the views; the address
is checked by crm.webhooks.services.url_problem, its message shown next to the field."""
from wtforms import RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from crm.common.forms import BaseForm, MultiCheckboxField, strip_filter
from crm.common.numbers import coerce_id
from crm.webhooks.events import EVENTS
from crm.webhooks.models import FORMATS
from crm.webhooks.services import URL_MAX


class EndpointForm(BaseForm):
    name = StringField("名称", filters=[strip_filter],
                       validators=[DataRequired("请填写名称"), Length(max=100, message="名称不能超过 100 个字")],
                       description="便于辨认，例如“智慧工会平台”“高米店街道工作群”")
    org_unit = SelectField("所属单位", coerce=coerce_id, validators=[DataRequired("请选择所属单位")],
                           description="接收本单位及其下级单位的事件")
    url = StringField("接收地址", filters=[strip_filter],
                      validators=[DataRequired("请填写接收地址"),
                                  Length(max=URL_MAX, message=f"接收地址不能超过 {URL_MAX} 个字符")],
                      description="以 https:// 开头；企业微信群机器人请粘贴机器人的 Webhook 地址",
                      render_kw={"inputmode": "url", "autocomplete": "off", "autocapitalize": "none",
                                 "spellcheck": "false"})
    events = MultiCheckboxField("推送的事件", choices=list(EVENTS),
                                validators=[DataRequired("请至少选择一个事件")])
    format = RadioField("消息格式", choices=list(FORMATS), default="json",
                        validators=[DataRequired("请选择消息格式")])
