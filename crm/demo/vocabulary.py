"""The demo's words: its logins, Daxing's towns and streets with their places, firm names,
trades, people's names and the notes of a founding track."""
from dataclasses import dataclass

DEMO_PASSWORD = "Daxing-2026"


@dataclass
class DemoLogin:
    username: str
    name: str
    role: str
    org_name: str


# (username, name, role, org unit code). Each password hash is slow by design: keep it short.
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
