"""The enterprise file's enum-like fields, defined once with their labels."""
from crm.common.choices import Choices

# GB/T 4754-2017 sections A–T.
INDUSTRIES = Choices(
    ("A", "农、林、牧、渔业"), ("B", "采矿业"), ("C", "制造业"),
    ("D", "电力、热力、燃气及水生产和供应业"), ("E", "建筑业"), ("F", "批发和零售业"),
    ("G", "交通运输、仓储和邮政业"), ("H", "住宿和餐饮业"), ("I", "信息传输、软件和信息技术服务业"),
    ("J", "金融业"), ("K", "房地产业"), ("L", "租赁和商务服务业"), ("M", "科学研究和技术服务业"),
    ("N", "水利、环境和公共设施管理业"), ("O", "居民服务、修理和其他服务业"), ("P", "教育"),
    ("Q", "卫生和社会工作"), ("R", "文化、体育和娱乐业"), ("S", "公共管理、社会保障和社会组织"),
    ("T", "国际组织"),
)

KINDS = Choices(
    ("llc", "有限责任公司"), ("joint_stock", "股份有限公司"), ("sole", "个人独资企业"),
    ("partnership", "合伙企业"), ("individual", "个体工商户"), ("state", "国有企业"),
    ("foreign", "外商投资企业"), ("social_org", "社会组织"), ("other", "其他"),
)

CATEGORIES = Choices(
    ("enterprise", "企业"), ("express", "快递站点"), ("delivery", "外卖站点"),
    ("merchant", "商户"), ("other", "其他"),
)

PARTY_ORG = Choices(("established", "已建立党组织"), ("none", "未建立"), ("joint", "联合党组织"))

UNION_FORMS = Choices(("single", "单独建会"), ("joint", "联合建会"), ("regional", "区域(行业)工会"))

STATUSES = Choices(("normal", "正常"), ("suspended", "停业"), ("moved_out", "已迁出"),
                   ("deregistered", "已注销"))

# Suggestions for 所在楼宇/商圈 before any file names one.
AREA_SEEDS = ("环宇坊", "瀛嘉汇", "众美城MIMO公馆", "朗苑社区", "首航超市")
