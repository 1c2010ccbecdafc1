from wtforms import (BooleanField, DateField, HiddenField, IntegerField, SelectField, StringField,
                     TextAreaField)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from crm.common.forms import BaseForm, strip_filter
from crm.common.numbers import coerce_id
from crm.enterprises import creditcode
from crm.enterprises.choices import CATEGORIES, INDUSTRIES, KINDS, PARTY_ORG, STATUSES, UNION_FORMS
from crm.enterprises.fields import EDITABLE
from crm.enterprises.fields import LABELS as L
from crm.enterprises.validation import credit_code_problem, normalise_phone, phone_problem, union_code_problem
from crm.founding import stages
from crm.sync.forms import KeyedForm

NON_NEGATIVE = NumberRange(min=0, message="不能为负数")


def _credit_code(form, field):
    problem = credit_code_problem(creditcode.normalise(field.data))
    if problem:
        raise ValidationError(problem)


def _union_code(form, field):
    problem = union_code_problem(creditcode.normalise(field.data))
    if problem:
        raise ValidationError(problem)


def _phone(form, field):
    problem = phone_problem(normalise_phone(field.data))
    if problem:
        raise ValidationError(problem)


class EnterpriseForm(BaseForm):
    name = StringField(L["name"], filters=[strip_filter],
                       validators=[DataRequired("请填写企业名称"), Length(max=200)])
    credit_code = StringField(L["credit_code"], filters=[strip_filter],
                              validators=[Optional(), Length(max=40), _credit_code],
                              description="18位，可暂不填写；小写、全角会自动转换",
                              render_kw={"autocapitalize": "characters", "spellcheck": "false"})
    org_unit = SelectField(L["org_unit"], coerce=coerce_id, validators=[DataRequired("请选择所属工会")])
    address = StringField(L["address"], filters=[strip_filter], validators=[Length(max=300)])
    area = StringField(L["area"], filters=[strip_filter], validators=[Length(max=100)],
                       render_kw={"list": "area-options"})
    industry = SelectField(L["industry"], choices=INDUSTRIES.form_choices("（未选择）"))
    kind = SelectField(L["kind"], choices=KINDS.form_choices("（未选择）"))
    category = SelectField(L["category"], choices=CATEGORIES.form_choices(), default="enterprise")
    employees = IntegerField(L["employees"], validators=[Optional(), NON_NEGATIVE],
                             render_kw={"min": 0, "inputmode": "numeric"})
    new_form_workers = IntegerField(L["new_form_workers"], validators=[Optional(), NON_NEGATIVE],
                                    render_kw={"min": 0, "inputmode": "numeric"})
    legal_rep = StringField(L["legal_rep"], filters=[strip_filter], validators=[Length(max=64)])
    is_key = BooleanField(L["is_key"])
    party_org = SelectField(L["party_org"], choices=PARTY_ORG.form_choices("（未填写）"))
    union_name = StringField(L["union_name"], filters=[strip_filter], validators=[Length(max=200)])
    union_founded_on = DateField(L["union_founded_on"], validators=[Optional()])
    union_chair = StringField(L["union_chair"], filters=[strip_filter], validators=[Length(max=64)])
    member_count = IntegerField(L["member_count"], validators=[Optional(), NON_NEGATIVE],
                                render_kw={"min": 0, "inputmode": "numeric"})
    union_credit_code = StringField(L["union_credit_code"], filters=[strip_filter],
                                    validators=[Optional(), Length(max=40), _union_code],
                                    description="以 81 开头的18位代码",
                                    render_kw={"autocapitalize": "characters", "spellcheck": "false"})
    union_term_end = DateField(L["union_term_end"], validators=[Optional()],
                               description="一届任期通常为5年，到期前提醒换届")
    union_form = SelectField(L["union_form"], choices=UNION_FORMS.form_choices("（未填写）"),
                             description="不足25人的企业可联合建会或选派组织员")
    status = SelectField(L["status"], choices=STATUSES.form_choices(), default="normal")
    tags = StringField(L["tags"], filters=[strip_filter], validators=[Length(max=300)],
                       description="多个标签用逗号分隔")
    notes = TextAreaField(L["notes"], validators=[Length(max=5000)], render_kw={"rows": 3})
    version = HiddenField()
    confirm_duplicate = HiddenField(default="")

    def service_data(self):
        return {name: getattr(self, name).data for name in EDITABLE}


class NewEnterpriseForm(KeyedForm, EnterpriseForm):
    initial_stage = SelectField("建档时的建会进度", choices=list(stages.ALL_STAGES), default=stages.FIRST,
                                description="已建会企业可直接选择“上级已批复”或“已取得工会法人资格”")
    contact_name = StringField("联系人姓名", filters=[strip_filter], validators=[Length(max=64)])
    contact_title = StringField("职务", filters=[strip_filter], validators=[Length(max=64)])
    contact_phone = StringField("联系电话", filters=[strip_filter], validators=[Optional(), _phone],
                                render_kw={"type": "tel", "inputmode": "tel"})

    def contact_data(self):
        return {"name": self.contact_name.data, "title": self.contact_title.data,
                "phone": self.contact_phone.data}


class ContactForm(KeyedForm):
    name = StringField("姓名", filters=[strip_filter], validators=[DataRequired("请填写联系人姓名"), Length(max=64)])
    title = StringField("职务", filters=[strip_filter], validators=[Length(max=64)])
    phone = StringField("电话", filters=[strip_filter], validators=[Optional(), _phone],
                        render_kw={"type": "tel", "inputmode": "tel"})
    wechat = StringField("微信", filters=[strip_filter], validators=[Length(max=64)])
    is_primary = BooleanField("主要联系人")


class ArchiveForm(BaseForm):
    reason = StringField("归档原因", filters=[strip_filter],
                         validators=[DataRequired("请填写归档原因"), Length(max=200)])


class BulkForm(BaseForm):
    """批量操作: the action is the button pressed (name "action"); the selection rides along as
    the ticked files (`ent`, read by the view) or every file matching the list's filters."""
    unit = SelectField("目标单位", coerce=coerce_id, validators=[Optional()])
    tag = StringField("要添加或移除的标签", filters=[strip_filter], validators=[Length(max=50)],
                      description="一次一个标签，如“快递物流”", render_kw={"list": "bulk-tag-options"})
    reason = StringField("归档原因", filters=[strip_filter], validators=[Length(max=200)])
    everything = HiddenField(default="")  # "1": every file matching `filters`
    filters = HiddenField(default="", validators=[Length(max=2000)])  # the list's query string
