"""Field-work vocabularies, defined once with their Chinese labels."""
from crm.common.choices import Choices

VISIT_KINDS = Choices(("door", "上门走访"), ("one_on_one", "一对一企业沟通会"), ("phone", "电话"),
                      ("wechat", "微信"), ("other", "其他"))

VISIT_PURPOSES = Choices(("founding", "建会动员"), ("member_service", "会员服务"),
                         ("policy", "政策宣传"), ("survey", "需求调研"), ("training", "培训对接"),
                         ("mediation", "矛盾调解"), ("other", "其他"))

NEED_CATEGORIES = Choices(("founding", "建会指导"), ("legal", "法律咨询"), ("training", "职工培训"),
                          ("hardship", "困难帮扶"), ("policy", "政策咨询"), ("culture", "文体活动"),
                          ("care", "心理关怀"), ("other", "其他"))

NEED_STATUSES = Choices(("open", "待解决"), ("in_progress", "处理中"), ("resolved", "已解决"),
                        badges={"open": "text-bg-warning", "in_progress": "text-bg-info", "resolved": "text-bg-success"})
NEED_RESOLVED = "resolved"

MEETING_KINDS = Choices(("staff", "职工沟通会"), ("enterprise", "企业沟通会"))

MEETING_LEVELS = Choices(("routine", "常态化"), ("district", "区级"), ("special", "专场"))

MEETING_FORMATS = Choices(("face", "面对面"), ("one_on_one", "一对一"), ("collective", "集体"))

# 新就业形态劳动者 and other groups a meeting or activity reaches.
TARGET_GROUPS = Choices(("courier", "快递员"), ("rider", "外卖送餐员"), ("ride_hailing", "网约车司机"),
                        ("truck", "货车司机"), ("domestic", "家政服务员"), ("merchant_staff", "商户职工"),
                        ("other", "其他"))

SERVICES = Choices(("haircut", "义务理发"), ("blood", "无偿献血"), ("health_check", "免费体检"),
                   ("reading", "读书分享会"), ("points", "积分兑换"), ("walk", "健步走"),
                   ("red_film", "红色观影"), ("legal", "法律咨询"), ("care", "心理关怀"),
                   ("holiday", "节日慰问"), ("cooling", "送清凉"), ("leaflets", "宣传折页发放"),
                   ("other", "其他"))

PARTNERS = Choices(("party", "党建"), ("youth", "团委"), ("women", "妇联"), ("bank", "银行"),
                   ("charity", "爱心企业"), ("other", "其他"))

POINT_KINDS = Choices(("business_district", "商圈"), ("office_tower", "商务楼宇"), ("supermarket", "超市"),
                      ("express_station", "快递站点"), ("rider_spot", "外卖等餐点"),
                      ("warm_station", "暖心驿站"), ("community", "社区"), ("other", "其他"))

TRAINING_CATEGORIES = Choices(("quality", "职工素质提升"), ("skills", "职业技能"), ("safety", "安全生产"),
                              ("law", "法律知识"), ("union", "工会业务"), ("health", "身心健康"),
                              ("other", "其他"))


def join_keys(keys) -> str:
    """Several choice keys in one column: ",a,b," so one key is found with LIKE '%,a,%'."""
    keys = [k for k in dict.fromkeys(keys or []) if k]
    return f",{','.join(keys)}," if keys else ""


def split_keys(value: str) -> list[str]:
    return [k for k in (value or "").split(",") if k]


def labels(choices: Choices, value: str, sep="、") -> str:
    return sep.join(choices.label(k) for k in split_keys(value))
