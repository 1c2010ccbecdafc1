"""The members' vocabularies and the consent a worker gives, defined once."""
from crm.common.choices import Choices

PLATFORMS = Choices(("meituan", "美团"), ("eleme", "饿了么"), ("sf", "顺丰"), ("jd", "京东"), ("shansong", "闪送"),
                    ("dada", "达达"), ("huolala", "货拉拉"), ("didi", "滴滴"), ("ems", "中国邮政"),
                    ("zto", "中通"), ("yto", "圆通"), ("sto", "申通"), ("yunda", "韵达"), ("other", "其他单位"))

MEMBER_STATES = Choices(("pending", "待确认"), ("active", "会员"), ("void", "已作废"),
                        badges={"pending": "text-bg-warning", "active": "text-bg-success"})

# A sign-up at a meeting or a point: staff confirm or reject it. At an activity: registered or on
# the waiting list until cancelled; checked in at the event.
SIGNUP_STATES = Choices(("pending", "待确认"), ("confirmed", "已确认"), ("rejected", "已驳回"),
                        ("registered", "已报名"), ("waitlisted", "候补"), ("cancelled", "已取消"),
                        badges={"pending": "text-bg-warning", "confirmed": "text-bg-success",
                                "registered": "text-bg-info", "waitlisted": "text-bg-warning"})

CONSENT_VERSION = "2026-12"
CONSENT_TEXT = ("我同意区总工会及所属工会为办理入会、会员服务和活动报名，收集并使用我填写的姓名、手机号、"
                "职业群体、所在平台或单位和站点。手机号加密保存，仅本人所属工会的负责人可查看完整号码；"
                "我可以随时联系工会要求删除我的个人信息。")
