"""The enterprise ledger's columns: the layout the export writes and the importer reads, with the
header names and synonyms people use in their own sheets (Excel/WPS ledgers of the town unions)."""
from dataclasses import dataclass

from crm.common.text import nfkc
from crm.enterprises.choices import CATEGORIES, INDUSTRIES, KINDS, PARTY_ORG, STATUSES, UNION_FORMS
from crm.founding import stages


@dataclass(frozen=True)
class Column:
    key: str            # the file field, or contact_name / contact_phone / union_status
    header: str         # the header the export writes
    kind: str = "text"  # text | code | int | bool | date | choice | unit | stage | phone | yesno_union
    synonyms: tuple = ()
    choices: object = None
    width: int = 14


COLUMNS = (
    Column("name", "企业名称", synonyms=("单位名称", "名称", "企业（单位）名称", "企业全称", "商户名称"), width=36),
    Column("credit_code", "统一社会信用代码", "code", ("信用代码", "社会信用代码", "统一信用代码", "社会统一信用代码",
                                                "营业执照号", "信用代码/注册号"), width=22),
    Column("org_unit", "所属工会", "unit", ("所属单位", "所属镇街", "所属街道", "属地工会", "所属乡镇", "镇街"), width=22),
    Column("address", "经营地址", synonyms=("地址", "企业地址", "注册地址", "详细地址"), width=36),
    Column("area", "所在楼宇/商圈", synonyms=("所在楼宇", "楼宇", "商圈", "所在商圈", "楼宇商圈"), width=16),
    Column("industry", "所属行业", "choice", ("行业", "行业类别", "国民经济行业"), INDUSTRIES, 20),
    Column("kind", "企业类型", "choice", ("企业性质", "经济类型", "登记注册类型", "单位性质"), KINDS, 14),
    Column("category", "类别", "choice", ("企业类别", "站点类别"), CATEGORIES, 10),
    Column("employees", "职工人数", "int", ("员工人数", "从业人数", "职工数", "人数", "在职人数"), width=10),
    Column("new_form_workers", "新就业形态劳动者人数", "int", ("新就业形态劳动者", "新业态人数", "新就业形态人数",
                                                          "快递员外卖员人数"), width=12),
    Column("legal_rep", "法定代表人", synonyms=("法人", "法人代表", "负责人", "企业负责人")),
    Column("is_key", "区级重点企业", "bool", ("重点企业", "是否重点企业", "是否区级重点企业"), width=10),
    Column("party_org", "党组织情况", "choice", ("党组织", "是否建立党组织"), PARTY_ORG),
    Column("status", "经营状态", "choice", ("状态", "企业状态", "营业状态"), STATUSES, 10),
    Column("stage", "建会进度", "stage", ("建会阶段", "建会状态"), stages.ALL_STAGES, 16),
    Column("union_status", "是否建会", "yesno_union", ("建会情况", "是否已建会", "已建会"), width=10),
    Column("union_name", "工会名称", synonyms=("工会全称",), width=30),
    Column("union_founded_on", "建会日期", "date", ("工会成立日期", "成立日期", "建会时间"), width=12),
    Column("union_chair", "工会主席", synonyms=("主席", "工会主席姓名")),
    Column("member_count", "会员人数", "int", ("会员数", "工会会员人数", "入会人数"), width=10),
    Column("union_credit_code", "工会统一社会信用代码", "code", ("工会信用代码", "工会社会信用代码"), width=22),
    Column("union_term_end", "本届任期届满", "date", ("任期届满", "换届时间", "任期届满时间", "届满日期"), width=12),
    Column("union_form", "建会形式", "choice", ("建会方式", "组建形式"), UNION_FORMS, 14),
    Column("tags", "标签", synonyms=("标记",), width=16),
    Column("notes", "备注", synonyms=("说明", "其他"), width=30),
    Column("contact_name", "联系人", synonyms=("联系人姓名", "企业联系人", "联络人"), width=10),
    Column("contact_phone", "联系电话", "phone", ("电话", "手机", "联系方式", "手机号", "联系手机", "手机号码"), width=14),
)
BY_KEY = {c.key: c for c in COLUMNS}
# The export writes these (the union_status column is read only: it is derived from the stage).
EXPORTED = tuple(c for c in COLUMNS if c.key != "union_status")


def header_key(text) -> str:
    """A header cell as a comparable key: width, spaces, *, （必填）… removed."""
    value = nfkc(str(text or "")).strip().lower()
    for junk in ("*", "＊", "(必填)", "(选填)", "：", ":", " ", "\n", "\t"):
        value = value.replace(junk, "")
    return value


_LOOKUP = {}
for _c in COLUMNS:
    for _name in (_c.header,) + _c.synonyms:
        _LOOKUP.setdefault(header_key(_name), _c.key)


def match_header(text) -> str | None:
    return _LOOKUP.get(header_key(text))
