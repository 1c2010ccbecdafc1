"""Demo data: Daxing's real org-unit tree, a handful of logins and a few hundred enterprise files
with believable founding tracks (PRODUCT.md sections 2-4 and 12).

Everything is written through the services (create_user, create_enterprise, add_contact,
founding.services.move), so the files look exactly like files people made: a change log, a
dated founding track, validated codes and phones. The data is reproducible from the seed
(dates are offsets from today, so the same seed on the same day gives the same data).
"""
import random
from dataclasses import dataclass
from datetime import date, timedelta

from crm.auth.models import User
from crm.auth.services import create_user
from crm.common.errors import ServiceError
from crm.common.text import normalise_name
from crm.common.timeutil import local_today
from crm.db import db
from crm.enterprises import creditcode
from crm.enterprises.models import Enterprise
from crm.enterprises.services import add_contact, create_enterprise
from crm.founding import stages
from crm.founding.services import move
from crm.org.models import OrgUnit
from crm.org.services import load_tree_csv

DEMO_PASSWORD = "Daxing-2026"


@dataclass
class DemoLogin:
    username: str
    name: str
    role: str
    org_name: str


# (username, name, role, org unit code). Each password hash costs ~0.5 s by design: keep it short.
USERS = (
    ("admin", "区总工会管理员", "admin", "daxing"),
    ("leader", "区总工会领导", "viewer", "daxing"),
    # 寇亚娇 is 服务站站长; her staff works at the station too, so she sees their files.
    ("kouyj", "寇亚娇", "supervisor", "gaomidian_station"),
    ("liuxq", "刘晓晴", "staff", "gaomidian_station"),
    ("zhangh", "张红", "supervisor", "yinghai"),
    ("lijw", "李佳伟", "staff", "yinghai"),
    ("yanrb", "闫瑞波", "staff", "panggezhuang"),
    ("daimz", "戴明珠", "staff", "xihongmen"),
)

# Share of the files per unit (scaled to the requested total). Units with demo logins and the
# towns named in the report get more; 高米店's service station does most of the street's rider work.
WEIGHTS = {
    "xingfeng": 8, "linxiaolu": 8, "qingyuan": 9, "guanyinsi": 8, "tiangongyuan": 9,
    "gaomidian": 16, "ronghua": 10, "boxing": 8, "yizhuang": 14, "huangcun": 14, "jiugong": 12,
    "xihongmen": 20, "yinghai": 24, "qingyundian": 7, "caiyu": 7, "anding": 5, "lixian": 6,
    "yufa": 7, "panggezhuang": 16, "beizangcun": 6, "weishanzhuang": 6, "changziying": 5,
    "biomed_base": 10, "newmedia_base": 8, "airport_zone": 9,
    "gaomidian_station": 14, "panggezhuang_station": 3, "xihongmen_station": 3,
}

# Place names (for shop and station names) and roads (for addresses) per unit.
PLACES = {
    "xingfeng": (["兴丰大街", "三合庄园", "清城名苑"], "兴丰街道", ["兴丰大街", "兴华中路", "三合北路"]),
    "linxiaolu": (["林校北里", "康庄", "兴政街"], "林校路街道", ["林校路", "兴政街", "康庄路"]),
    "qingyuan": (["枣园", "清源路", "滨河"], "清源街道", ["清源路", "枣园路", "兴华大街"]),
    "guanyinsi": (["观音寺", "首座", "车站南里"], "观音寺街道", ["黄村西大街", "金星路", "观音寺路"]),
    "tiangongyuan": (["天宫院", "海子角", "龙湖天街"], "天宫院街道", ["天宫院路", "海子角西路", "兴业大街"]),
    "gaomidian": (["高米店", "郁花园", "香留园"], "高米店街道", ["兴业大街", "金星路", "郁花园路"]),
    "gaomidian_station": (["高米店北", "宜家", "康盛园"], "高米店街道", ["兴业大街", "康盛路", "高米店北路"]),
    "ronghua": (["荣华中路", "经海路", "林肯公园"], "荣华街道", ["荣华中路", "荣京东街", "经海路"]),
    "boxing": (["博兴路", "泰河园", "鹿海园"], "博兴街道", ["博兴八路", "泰河路", "博兴二路"]),
    "yizhuang": (["亦庄", "小羊坊", "贵园"], "亦庄镇", ["科创十三街", "宏达北路", "小羊坊路"]),
    "huangcun": (["黄村", "芦城", "狼垡"], "黄村镇", ["兴华大街", "芦城路", "狼垡东街"]),
    "jiugong": (["旧宫", "德茂", "庑殿"], "旧宫镇", ["旧宫东路", "德茂路", "庑殿路"]),
    "xihongmen": (["西红门", "欣宁街", "宏福"], "西红门镇", ["欣宁街", "宏业路", "金盛大街"]),
    "xihongmen_station": (["西红门地铁", "荟聚", "瑞海"], "西红门镇", ["欣宁街", "宏康路", "瑞海路"]),
    "yinghai": (["瀛海", "南海子", "兴海路"], "瀛海镇", ["兴海路", "瀛海路", "南海子东路"]),
    "qingyundian": (["青云店", "东店", "垡上"], "青云店镇", ["青云店大街", "东店路", "兴云路"]),
    "caiyu": (["采育", "东营", "沙窝店"], "采育镇", ["采育大街", "育英街", "东营路"]),
    "anding": (["安定", "高店", "前野场"], "安定镇", ["安定大街", "兴安路", "高店路"]),
    "lixian": (["礼贤", "龙头", "东黄垡"], "礼贤镇", ["礼贤大街", "礼平路", "龙头路"]),
    "yufa": (["榆垡", "大兴机场", "石垡"], "榆垡镇", ["榆垡大街", "京开路", "石垡路"]),
    "panggezhuang": (["庞各庄", "梨花村", "西瓜小镇"], "庞各庄镇", ["庞安路", "瓜乡路", "南中轴路"]),
    "panggezhuang_station": (["庞各庄南", "赵村", "留民庄"], "庞各庄镇", ["庞安路", "瓜乡路", "赵村路"]),
    "beizangcun": (["北臧村", "巴园子", "诸葛营"], "北臧村镇", ["京良路", "北臧路", "新兴路"]),
    "weishanzhuang": (["魏善庄", "半壁店", "岳家务"], "魏善庄镇", ["魏永路", "魏善庄大街", "岳家务路"]),
    "changziying": (["长子营", "朱脑", "北辛庄"], "长子营镇", ["长子营大街", "朱脑路", "北蒲路"]),
    "biomed_base": (["生物医药基地", "永旺路", "天贵街"], "生物医药产业基地", ["永旺路", "天贵街", "华佗路"]),
    "newmedia_base": (["新媒体基地", "金苑路", "兴盛街"], "新媒体产业基地", ["金苑路", "兴盛街", "新源大街"]),
    "airport_zone": (["临空经济区", "大兴机场", "礼贤临空"], "临空经济区", ["航兴路", "临空一路", "新航大道"]),
}

# 所在楼宇/商圈 per unit (the report's places for the right towns).
AREAS = {
    "yinghai": ["环宇坊", "瀛嘉汇", "朗苑社区", "首航超市"],
    "panggezhuang": ["众美城MIMO公馆"],
    "panggezhuang_station": ["众美城MIMO公馆"],
    "xihongmen": ["荟聚购物中心", "鸿坤广场"],
    "xihongmen_station": ["荟聚购物中心"],
    "gaomidian": ["兴业大街商圈", "金星路商务楼宇"],
    "gaomidian_station": ["宜家商圈", "兴业大街商圈"],
    "huangcun": ["大悦春风里", "火神庙商业街"],
    "tiangongyuan": ["龙湖天街"],
    "jiugong": ["旧宫万达广场"],
    "yizhuang": ["亦庄创新园"],
    "biomed_base": ["生物医药产业园"],
    "newmedia_base": ["星光影视园"],
    "airport_zone": ["临空经济区综合服务中心"],
}

BRANDS = ["宏达", "兴业", "金桥", "华信", "鑫源", "恒通", "博远", "瑞丰", "天成", "康泰", "永安", "德润",
          "嘉禾", "盛世", "京南", "新航", "绿源", "安泰", "联创", "泰和", "正阳", "润泽", "星辰", "凯瑞",
          "明德", "卓越", "信达", "晨光", "锦程", "万通", "宇航", "福润", "天润", "华兴", "北辰", "中鼎",
          "诚信", "佳美", "海纳", "合众", "永盛", "辰宇", "长青", "汇通", "广源", "东升", "和信", "中瑞",
          "金泰", "兴旺", "弘毅", "利民", "鼎盛", "顺达", "育新", "同仁", "昊天", "云帆", "创新", "百川"]

# Business words per GB/T 4754 section, and the weight of the section among ordinary firms.
TRADES = {
    "A": (2, ["农业科技", "种植专业合作社", "园艺"]),
    "C": (9, ["精密机械", "食品", "医疗器械", "印刷", "包装制品", "服装", "电子设备", "新材料"]),
    "D": (1, ["燃气", "热力", "新能源"]),
    "E": (5, ["建筑工程", "装饰工程", "市政工程"]),
    "F": (16, ["商贸", "贸易", "医药连锁", "建材", "电子商务", "超市"]),
    "G": (12, ["物流", "运输", "仓储服务", "供应链管理"]),
    "H": (10, ["餐饮管理", "酒店管理", "餐饮"]),
    "I": (9, ["信息技术", "软件", "网络科技", "数据科技"]),
    "J": (1, ["融资担保", "投资管理"]),
    "K": (3, ["房地产开发", "房地产经纪"]),
    "L": (10, ["物业管理", "人力资源服务", "企业管理咨询", "广告", "会展服务"]),
    "M": (9, ["生物科技", "医药科技", "检测技术", "工程设计"]),
    "N": (2, ["环境卫生服务", "园林绿化"]),
    "O": (8, ["家政服务", "保洁服务", "汽车维修", "洗衣服务"]),
    "P": (1, ["教育咨询"]),
    "Q": (1, ["养老服务", "康复医疗"]),
    "R": (1, ["文化传媒", "体育发展"]),
}

SHOPS = {  # shop word: industry
    "便利店": "F", "水果店": "F", "生鲜超市": "F", "五金建材店": "F", "母婴用品店": "F", "药店": "F",
    "面馆": "H", "烤鸭店": "H", "饺子馆": "H", "麻辣烫": "H", "咖啡馆": "H", "烘焙坊": "H",
    "火锅店": "H", "理发店": "O", "美甲店": "O", "洗衣店": "O", "修车行": "O", "眼镜店": "F",
}
SHOP_PREFIXES = ["老北京", "鑫鑫", "小马", "阿红", "福满", "家和", "好邻居", "张记", "刘家", "王姐",
                 "乐乐", "金手指", "一品", "川味", "东北", "兰州"]
EXPRESS = ["顺丰速运", "中通快递", "圆通速递", "韵达快递", "申通快递", "极兔速递", "邮政EMS"]
DELIVERY = ["美团外卖", "饿了么", "闪送"]

SURNAMES = ("王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
            "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
         "超", "秀英", "霞", "平", "刚", "桂英", "建华", "建国", "海燕", "志强", "晓东", "红梅", "玉兰",
         "文博", "子涵", "雨桐", "浩然", "思雨", "佳怡", "宇轩", "欣怡", "国庆", "春生", "秋菊", "立新",
         "淑珍", "德胜", "凤霞", "永刚", "丽华", "振华", "雪梅", "俊杰", "婷婷"]
MOBILE_PREFIXES = ["130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "152", "155",
                   "156", "158", "159", "166", "176", "177", "180", "183", "185", "186", "187", "188",
                   "189", "191", "195", "198", "199"]

# Where each file's founding track ends, and how often.
TARGETS = (("not_contacted", 24), ("contacted", 22), ("willing", 9), ("applied", 4), ("preparing", 3),
           ("recruiting", 4), ("elected", 2), ("approved", 8), ("registered", 13), ("on_hold", 3),
           ("declined", 3), ("not_eligible", 5))

FIRST_CONTACT = ["上门走访，发放《工会法》宣传折页和维权口袋书", "参加{unit}企业沟通会", "一对一企业沟通会",
                 "在{place}职工沟通会现场与负责人对接", "电话联系人事负责人，介绍建会流程", "随非公党建工作站联合走访"]
WHO_AGREED = ["人事经理同意配合，职工座谈会上多数职工表示愿意入会", "企业负责人表示支持建会，愿意提供活动场地",
              "职工代表联名提出建会意愿，管理方同意", "总经理办公会研究同意建会"]
SIDE_NOTES = {
    "on_hold": ["企业正在搬迁，负责人表示搬迁完成后再议", "经营困难、职工人数大幅减少，暂缓推进",
                "企业重组中，待新管理层到位后再对接"],
    "declined": ["企业负责人认为没有必要建会，拒绝进一步沟通", "总部统一管理，分支机构不同意单独建会",
                 "负责人担心增加成本，暂不同意建会"],
    "not_eligible": ["职工人数不足25人，纳入{where}联合工会覆盖", "职工人数少且流动性大，由区域（行业）工会覆盖，职工就近入会"],
    "closed": ["企业已迁出大兴区，档案保留", "企业经营地址迁出本辖区，档案保留"],
}
SUSPENDED_NOTE = "企业停业整顿，暂缓推进"
SKIP_NOTES = {  # by the stage reached with the skip
    "willing": "企业主动咨询建会，首次沟通即达成意向",
    "applied": "企业当场同意建会，当即报送建会请示",
    "preparing": "建会请示与筹备组批复同日办理",
    "recruiting": "筹备组成立当天即开展会员发展",
    "elected": "职工集中入会，当月召开会员大会完成选举",
    "approved": "会员大会选举结果随建会材料一并报批，上级已批复",
    "registered": "选举结果批复后即办理工会法人资格登记",
}
BACK_NOTES = ["企业负责人更换，需重新沟通建会事宜", "建会请示材料不全，退回补充后重新报送"]
RESUME_NOTES = ["企业恢复正常经营，重新对接建会事宜", "新管理层到位，同意继续推进建会"]

# Hand-made files the demo script and search examples rely on: (unit, name, industry, kind,
# category, employees, new_form_workers, area, is_key, target stage or None for random).
SPECIAL = (
    ("yizhuang", "北京京东世纪贸易有限公司大兴分公司", "F", "llc", "enterprise", 420, 0, "亦庄创新园", True, "registered"),
    ("yinghai", "京东物流瀛海营业部", "G", "other", "express", 18, 46, "环宇坊", False, "willing"),
    ("xihongmen", "京东便利店西红门欣宁街店", "F", "individual", "merchant", 4, 0, "", False, "contacted"),
    ("panggezhuang", "众美城MIMO公馆物业管理有限公司", "L", "llc", "enterprise", 68, 0, "众美城MIMO公馆", True, "approved"),
    ("panggezhuang", "众美城MIMO公馆鲜果坊", "F", "individual", "merchant", 3, 0, "众美城MIMO公馆", False, "not_contacted"),
    ("yinghai", "北京环宇坊商业管理有限公司", "L", "llc", "enterprise", 85, 0, "环宇坊", True, "registered"),
    ("yinghai", "瀛嘉汇老北京炸酱面馆", "H", "individual", "merchant", 6, 0, "瀛嘉汇", False, "contacted"),
    ("yinghai", "首航超市瀛海店", "F", "llc", "enterprise", 45, 0, "首航超市", False, "preparing"),
    ("yinghai", "朗苑社区便民理发店", "O", "individual", "merchant", 3, 0, "朗苑社区", False, "not_eligible"),
    ("gaomidian_station", "美团外卖高米店站点", "G", "other", "delivery", 6, 128, "兴业大街商圈", False, "approved"),
    ("gaomidian_station", "顺丰速运高米店站", "G", "other", "express", 12, 38, "", False, "contacted"),
    ("xihongmen", "饿了么西红门站点", "G", "other", "delivery", 5, 96, "荟聚购物中心", False, "willing"),
)


def is_empty() -> bool:
    """True when the database holds no users and no enterprise files (safe to load the demo)."""
    return not User.select().exists() and not Enterprise.select().exists()


def existing_logins() -> list[DemoLogin]:
    """The demo logins that exist in this database (for `crm serve --demo` on a loaded one)."""
    found = {u.username: u for u in User.select().where(User.username.in_([row[0] for row in USERS]))}
    return [DemoLogin(u.username, u.name, u.role, u.org_unit.name)
            for u in (found.get(row[0]) for row in USERS) if u is not None and u.active]


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _allocate(total: int, units: list[str]) -> dict[str, int]:
    """Largest-remainder split of `total` over units by WEIGHTS; every unit gets one when possible."""
    floor = 1 if total >= len(units) else 0
    rest = total - floor * len(units)
    weight_sum = sum(WEIGHTS.get(u, 5) for u in units)
    shares = {u: rest * WEIGHTS.get(u, 5) / weight_sum for u in units}
    counts = {u: floor + int(shares[u]) for u in units}
    left = total - sum(counts.values())
    for u in sorted(units, key=lambda u: (-(shares[u] - int(shares[u])), units.index(u)))[:left]:
        counts[u] += 1
    return counts


class _Builder:
    def __init__(self, rng: random.Random, today: date, units: dict, users: dict):
        self.rng = rng
        self.today = today
        self.units = units  # code -> OrgUnit
        self.users = users  # username -> User
        self.names: set[str] = set()
        self.codes: set[str] = set()
        self.phones: set[str] = set()

    # ---- small generators ------------------------------------------------------------
    def person(self) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)

    def mobile(self) -> str:
        while True:
            phone = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if phone not in self.phones:
                self.phones.add(phone)
                return phone

    def code(self, prefix: str) -> str:
        while True:
            code = creditcode.generate(self.rng, prefix=prefix)
            if code not in self.codes:
                self.codes.add(code)
                return code

    def unique(self, make) -> str:
        for _ in range(200):
            name = make()
            if normalise_name(name) not in self.names:
                self.names.add(normalise_name(name))
                return name
        raise RuntimeError("could not make a unique demo name")

    def day_between(self, start: date, end: date) -> date:
        return start + timedelta(days=self.rng.randint(0, max(0, (end - start).days)))

    def recorder(self, unit_code: str) -> User:
        """The demo user who would have written this unit's files (staff first), else the admin."""
        unit = self.units[unit_code]
        candidates = [u for u in self.users.values() if u.org_unit_id == unit.id and u.role == "staff"] \
            or [u for u in self.users.values() if u.org_unit_id == unit.id] \
            or [u for u in self.users.values()
                if unit.parent_id and u.org_unit_id == unit.parent_id and u.role in ("staff", "supervisor")] \
            or [self.users["admin"]]
        return self.rng.choice(candidates)

    # ---- one file's profile ------------------------------------------------------------
    def profile(self, unit_code: str) -> dict:
        rng = self.rng
        places, town, roads = PLACES[unit_code]
        station_heavy = unit_code in ("gaomidian_station", "xihongmen_station", "gaomidian", "xihongmen")
        roll = rng.random()
        express_share, delivery_share = (0.18, 0.14) if station_heavy else (0.07, 0.04)
        if roll < express_share:
            category = "express"
        elif roll < express_share + delivery_share:
            category = "delivery"
        elif roll < express_share + delivery_share + 0.22:
            category = "merchant"
        elif roll < express_share + delivery_share + 0.24:
            category = "other"
        else:
            category = "enterprise"
        area = rng.choice(AREAS[unit_code]) if unit_code in AREAS and rng.random() < 0.45 else ""
        data = {"category": category, "area": area, "new_form_workers": None}
        if category == "express":
            data["name"] = self.unique(
                lambda: f"{rng.choice(EXPRESS)}{rng.choice(places)}{rng.choice(['站', '营业部', '网点'])}")
            data.update(industry="G", kind=rng.choice(["other", "llc"]), employees=rng.randint(4, 20),
                        new_form_workers=rng.randint(8, 60))
        elif category == "delivery":
            data["name"] = self.unique(lambda: f"{rng.choice(DELIVERY)}{rng.choice(places)}站点")
            data.update(industry="G", kind="other", employees=rng.randint(3, 10),
                        new_form_workers=rng.randint(20, 150))
        elif category == "merchant":
            def shop_name():
                word = rng.choice(list(SHOPS))
                where = area if area and rng.random() < 0.6 else rng.choice(places)
                return f"{where}{rng.choice(SHOP_PREFIXES)}{word}"
            data["name"] = self.unique(shop_name)
            word = next(w for w in SHOPS if data["name"].endswith(w))
            data.update(industry=SHOPS[word], kind="individual", employees=rng.randint(1, 12))
        elif category == "other":
            rural = self.units[unit_code].kind == "town"
            kind = rng.choice(["social_org", "social_org", "other"] if rural else ["social_org"])
            if kind == "social_org":
                data["name"] = self.unique(lambda: rng.choice([
                    f"北京市大兴区{rng.choice(['物流', '餐饮', '家政', '物业', '建筑', '电子商务'])}行业协会",
                    f"北京市大兴区{rng.choice(BRANDS)}{rng.choice(['养老照料中心', '职业技能培训学校', '社会工作服务中心'])}"]))
                industry = "S" if data["name"].endswith("协会") else rng.choice(["P", "Q", "O"])
            else:
                data["name"] = self.unique(lambda: f"北京市大兴区{rng.choice(places)}"
                                                   f"{rng.choice(['西瓜', '梨', '蔬菜', '花卉'])}种植专业合作社")
                industry = "A"
            data.update(industry=industry, kind=kind, employees=rng.randint(3, 40))
        else:
            industry = rng.choices(list(TRADES), weights=[w for w, _ in TRADES.values()])[0]
            trade = rng.choice(TRADES[industry][1])
            kind = rng.choices(["llc", "joint_stock", "sole", "partnership", "state", "foreign"],
                               weights=[72, 6, 8, 4, 4, 6])[0]

            def company_name():
                b = rng.choice(BRANDS)
                if kind == "joint_stock":
                    return f"北京{b}{trade}股份有限公司"
                if kind == "sole":
                    return f"北京市大兴区{b}{trade}中心"
                if kind == "partnership":
                    return f"北京{b}{trade}中心（有限合伙）"
                if kind == "foreign":
                    return f"{b}（北京）{trade}有限公司"
                if kind == "state":
                    return f"北京{b}{trade}集团有限公司"
                if rng.random() < 0.08:
                    return f"北京{b}{trade}有限公司大兴分公司"
                return f"北京{b}{trade}有限公司"
            data["name"] = self.unique(company_name)
            big = kind in ("joint_stock", "state", "foreign") or industry == "C"
            employees = rng.randint(25, 500) if rng.random() < (0.6 if big else 0.22) else rng.randint(3, 24)
            data.update(industry=industry, kind=kind, employees=employees)
        data["address"] = f"北京市大兴区{town}{rng.choice(roads)}{rng.randint(1, 199)}号" + \
            (f"{rng.randint(1, 3)}层" if rng.random() < 0.3 else "")
        return data

    def finish_profile(self, unit_code: str, data: dict, is_key: bool | None = None) -> dict:
        """Codes, people, flags and status for a profile."""
        rng = self.rng
        kind, category, employees = data["kind"], data["category"], data["employees"] or 0
        if kind == "individual":
            data["credit_code"] = self.code("92") if rng.random() < 0.55 else ""
        elif kind == "social_org":
            data["credit_code"] = self.code("51" if data["name"].endswith("协会") else "52")
        elif data.get("industry") == "A" and kind == "other":
            data["credit_code"] = self.code("93")
        else:
            data["credit_code"] = self.code("91") if rng.random() < 0.98 else ""
        data["org_unit"] = self.units[unit_code].id
        data["legal_rep"] = self.person()
        if is_key is None:
            is_key = category == "enterprise" and employees >= 25 and rng.random() < 0.35 \
                or category == "enterprise" and rng.random() < 0.03
        data["is_key"] = bool(is_key)
        if kind == "state" or employees >= 100 and rng.random() < 0.7:
            data["party_org"] = "established"
        elif rng.random() < 0.25:
            data["party_org"] = "joint"
        elif rng.random() < 0.5:
            data["party_org"] = "none"
        else:
            data["party_org"] = ""
        roll = rng.random()
        data["status"] = "normal" if roll < 0.94 else ("suspended" if roll < 0.97 else "moved_out")
        tags = []
        if category in ("express", "delivery"):
            tags.append("新就业形态")
        if data["area"]:
            tags.append("商圈楼宇")
        if data["is_key"]:
            tags.append("重点培育")
        data["tags"] = ",".join(tags)
        return data

    def contact(self, data: dict) -> dict | None:
        rng = self.rng
        if rng.random() < 0.12:
            return None
        titles = {"express": ["站长", "网点负责人"], "delivery": ["站长", "片区经理"],
                  "merchant": ["店主", "店长"], "other": ["负责人", "秘书长", "办公室主任"],
                  "enterprise": ["人事经理", "行政主管", "办公室主任", "综合部经理", "总经理助理"]}
        c = {"name": self.person(), "title": rng.choice(titles[data["category"]]), "phone": self.mobile()}
        if rng.random() < 0.4:
            c["wechat"] = "wx_" + "".join(rng.choice("abcdefghjkmnpqrstuvwxyz0123456789") for _ in range(8))
        return c

    # ---- founding track ---------------------------------------------------------------
    def target(self, data: dict, wanted: str | None) -> str:
        if data["status"] == "moved_out":
            return "closed"
        if wanted:
            return wanted
        if data["status"] == "suspended":
            return "on_hold"
        keys = [k for k, _ in TARGETS]
        weights = []
        for key, w in TARGETS:
            if key == "not_eligible" and (data["employees"] or 0) >= 25:
                w = 0
            if key in ("approved", "registered") and data["is_key"]:
                w *= 3
            weights.append(w)
        return self.rng.choices(keys, weights=weights)[0]

    def union_fields(self, data: dict, founded: date, chair: str | None = None) -> dict:
        rng = self.rng
        employees = data["employees"] or 0
        workers = employees + (data.get("new_form_workers") or 0)
        if data["category"] in ("express", "delivery"):
            form = "regional"
        elif employees < 25:
            form = rng.choice(["joint", "joint", "regional"])
        else:
            form = "single"
        if form == "single":
            union_name = f"{data['name']}工会委员会"
        elif form == "joint":
            where = data["area"] or PLACES[self._unit_code(data)][0][0]
            union_name = f"{where}联合工会委员会"
        else:
            trade = "快递物流" if data["category"] in ("express", "delivery") else "商户"
            union_name = f"{PLACES[self._unit_code(data)][1]}{trade}行业工会联合会"
        term_end = _add_years(founded, 5)
        while term_end < self.today - timedelta(days=60):  # re-elected every 5 years since
            term_end = _add_years(term_end, 5)
        return {"union_name": union_name, "union_founded_on": founded, "union_chair": chair or self.person(),
                "member_count": max(1, int(workers * rng.uniform(0.7, 1.0))), "union_form": form,
                "union_term_end": term_end}

    def _unit_code(self, data: dict) -> str:
        return next(c for c, u in self.units.items() if u.id == data["org_unit"])

    def evidence(self, to_stage: str, on: date, data: dict, chair: str) -> dict:
        rng = self.rng
        places, town, _ = PLACES[self._unit_code(data)]
        year = on.year
        if to_stage == "contacted":
            text = rng.choice(FIRST_CONTACT).format(unit=town, place=data["area"] or places[0])
            return {"first_contact": text}
        if to_stage == "willing":
            return {"who_agreed": rng.choice(WHO_AGREED)}
        if to_stage == "applied":
            return {"request_sent_on": on}
        if to_stage == "preparing":
            return {"approval_no": f"兴工筹字〔{year}〕{rng.randint(1, 120)}号",
                    "prep_members": "、".join([chair] + [self.person() for _ in range(rng.randint(2, 4))])}
        if to_stage == "recruiting":
            return {"members_so_far": max(1, int((data["employees"] or 5) * rng.uniform(0.2, 0.7)))}
        if to_stage == "elected":
            return {"assembly_on": on, "chair": chair, "committee_size": rng.choice([3, 3, 5, 5, 7])}
        if to_stage == "approved":
            return {"approval_no": f"兴工批字〔{year}〕{rng.randint(1, 200)}号"}
        return {}

    def plan(self, target: str, side_note: str = "") -> list[tuple[str, str]]:
        """[(to_stage, note)] from 未接触 to `target`, with the odd skip, step back or pause."""
        rng = self.rng
        order = {s.key: s.order for s in stages.STAGES}
        by_order = [s.key for s in stages.STAGES]
        if target in order:
            goal, side = order[target], None
        else:
            side = target
            goal = rng.choice([0, 1, 1, 1, 2, 2, 3] if target != "closed" else [0, 1, 1, 2, 3, 5])
        steps, current = [], 0
        paused = side is None and goal >= 2 and rng.random() < 0.08
        stepped_back = side is None and goal >= 4 and rng.random() < 0.08
        while current < goal:
            nxt = current + 1
            if goal - current >= 2 and rng.random() < 0.08:
                nxt = current + 2
                steps.append((by_order[nxt], SKIP_NOTES[by_order[nxt]]))
            else:
                steps.append((by_order[nxt], ""))
            current = nxt
            if paused and current == 2:
                steps.append(("on_hold", rng.choice(SIDE_NOTES["on_hold"])))
                steps.append((by_order[current], rng.choice(RESUME_NOTES)))
                paused = False
            if stepped_back and current == 3 and goal > 3:
                steps.append((by_order[2], rng.choice(BACK_NOTES)))
                steps.append((by_order[3], ""))
                stepped_back = False
        if side:
            steps.append((side, side_note or rng.choice(SIDE_NOTES[side])))
        return steps

    # ---- one file ------------------------------------------------------------------------
    def build(self, unit_code: str, data: dict, wanted: str | None = None):
        rng, today = self.rng, self.today
        user = self.recorder(unit_code)
        target = self.target(data, wanted)
        contact = self.contact(data)
        chair = self.person()
        if target in ("approved", "registered") and rng.random() < 0.6:
            # An imported file of an enterprise that has had its union for years.
            founded = self.day_between(_add_years(today, -12), today - timedelta(days=400))
            data.update(self.union_fields(data, founded, chair))
            if target == "registered":
                data["union_credit_code"] = self.code("81")
            ent = create_enterprise(data, user, contact=contact, initial_stage=target,
                                    initial_stage_on=founded, source="import")
            self.second_contact(ent, data, user, chair)
            return ent

        steps = self.plan(target, SUSPENDED_NOTE if data["status"] == "suspended" else "")
        # The track starts somewhere in the last two years; longer tracks start earlier.
        earliest = today - timedelta(days=730)
        latest = today - timedelta(days=min(700, 25 * len(steps)))
        start = self.day_between(earliest, latest)
        dates = sorted(self.day_between(start + timedelta(days=1), today) for _ in steps)
        ent = create_enterprise(data, user, contact=contact, initial_stage_on=start, source="create")
        current, founded = stages.FIRST, None
        for (to_stage, note), on in zip(steps, dates):
            if to_stage == "elected":
                founded = on
            union = None
            if to_stage == "approved":
                union = self.union_fields(data, founded or on, chair)
            evidence = self.evidence(to_stage, on, data, chair)
            if to_stage == "registered":
                union = {"union_credit_code": self.code("81")}
                evidence = dict(union)
            move(ent, to_stage, user, expected_from=current, occurred_on=on,
                 note=note.format(where=data["area"] or PLACES[unit_code][1]),
                 evidence=evidence, union=union)
            current = to_stage
        if stages.union_status(current) == "founded":
            self.second_contact(ent, data, user, chair)
        return ent

    def second_contact(self, ent, data, user, chair):
        """A unionized firm's union chair is a contact too (on about half of them)."""
        if self.rng.random() < 0.5 and data["category"] == "enterprise":
            add_contact(ent, {"name": chair, "title": "工会主席", "phone": self.mobile()}, user)


def load_demo(seed: int = 2026, enterprises: int = 300) -> list[DemoLogin]:
    """Fill an empty database with the demo (org tree, logins, enterprise files with tracks).

    Runs inside an app context with the database bound. All or nothing: one transaction.
    Refuses to run when users or enterprise files already exist.
    """
    if enterprises < 0:
        raise ServiceError("企业数量不能为负数")
    if not is_empty():
        raise ServiceError("数据库中已有用户或企业档案，演示数据只能载入空数据库")
    rng = random.Random(seed)
    today = local_today()
    logins = []
    with db.atomic():
        load_tree_csv()
        units = {u.code: u for u in OrgUnit.select().order_by(OrgUnit.path)}
        users = {}
        for username, name, role, code in USERS:
            users[username] = create_user(username, name, role, units[code], DEMO_PASSWORD)
            logins.append(DemoLogin(username, name, role, units[code].name))

        builder = _Builder(rng, today, units, users)
        field_units = [c for c, u in units.items() if u.kind != "district" and c in PLACES]
        special = [s for s in SPECIAL if s[0] in units][:enterprises]
        counts = _allocate(enterprises, field_units)
        for s in special:  # the hand-made files count toward their unit's share
            counts[s[0]] -= 1
        deficit = -sum(min(0, n) for n in counts.values())
        counts = {code: max(0, n) for code, n in counts.items()}
        for _ in range(deficit):  # taken from the fullest units instead
            counts[max(field_units, key=lambda code: counts[code])] -= 1

        for unit_code, name, industry, kind, category, employees, nfw, area, is_key, wanted in special:
            builder.names.add(normalise_name(name))
            data = {"name": name, "industry": industry, "kind": kind, "category": category,
                    "employees": employees, "new_form_workers": nfw or None, "area": area,
                    "address": f"北京市大兴区{PLACES[unit_code][1]}{rng.choice(PLACES[unit_code][2])}"
                               f"{rng.randint(1, 199)}号"}
            data = builder.finish_profile(unit_code, data, is_key=is_key)
            data["status"] = "normal"
            builder.build(unit_code, data, wanted)
        for unit_code in field_units:
            for _ in range(counts[unit_code]):
                data = builder.finish_profile(unit_code, builder.profile(unit_code))
                builder.build(unit_code, data)
        if enterprises:
            from crm.demo_fieldwork import add_field_work
            add_field_work(rng, today, units, users, full=enterprises >= 100)
            from crm.demo_followups import add_followups
            add_followups(rng, today, units, users)
            if "xihongmen" in units:  # 西红门 visits every unionized firm monthly (PRODUCT.md section 12)
                from crm.compliance.services import add_setting
                from crm.demo_fieldwork import report_span
                start = report_span(today)[0]  # chosen when the demo's year began
                add_setting("unionized_monthly", units["xihongmen"], True, 100, start, users["admin"],
                            "西红门镇自选：已建会企业每月走访", today=start)
    return logins
