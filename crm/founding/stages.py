"""建会进度: the founding stages and side states (docs/rules.md). The one definition in code."""
from dataclasses import dataclass, field

from crm.common.choices import Choices


@dataclass(frozen=True)
class Evidence:
    name: str
    label: str
    kind: str = "text"  # text | date | int


@dataclass(frozen=True)
class Stage:
    key: str
    label: str
    order: int | None  # None for side states
    evidence: tuple = field(default=())

    @property
    def is_side(self):
        return self.order is None


STAGES = (
    Stage("not_contacted", "未接触", 0),
    Stage("contacted", "已走访宣传", 1, (Evidence("first_contact", "首次走访或沟通会"),)),
    Stage("willing", "有建会意向", 2, (Evidence("who_agreed", "同意建会的意见（职工意愿、企业管理方态度）"),)),
    Stage("applied", "已提交建会请示", 3, (Evidence("request_sent_on", "建会请示报送上级工会日期", "date"),)),
    Stage("preparing", "筹备组已成立", 4, (Evidence("approval_no", "筹备组批复文号"),
                                          Evidence("prep_members", "筹备组成员（3–5人）"))),
    Stage("recruiting", "发展会员中", 5, (Evidence("members_so_far", "已发展会员数", "int"),)),
    Stage("elected", "会员大会已选举", 6, (Evidence("assembly_on", "会员(代表)大会日期", "date"),
                                          Evidence("chair", "当选工会主席"),
                                          Evidence("committee_size", "委员会人数", "int"))),
    Stage("approved", "上级已批复", 7, (Evidence("approval_no", "选举结果批复文号"),)),
    Stage("registered", "已取得工会法人资格", 8, (Evidence("union_credit_code", "工会统一社会信用代码（81开头）"),)),
)

SIDE_STATES = (
    Stage("on_hold", "暂缓", None),
    Stage("declined", "企业拒绝", None),
    Stage("not_eligible", "不具备单独建会条件", None),
    Stage("closed", "已注销/迁出", None),
)

BY_KEY = {s.key: s for s in STAGES + SIDE_STATES}
ALL_STAGES = Choices(*((s.key, s.label) for s in STAGES + SIDE_STATES))
FIRST = STAGES[0].key

UNION_STATUS = Choices(("none", "未建会"), ("preparing", "筹建中"), ("founded", "已建会"))
# Stages 3–6 → 筹建中; 7–8 → 已建会; 0–2 and side states → 未建会.
_STATUS_BY_ORDER = {o: "none" for o in (0, 1, 2)} | {o: "preparing" for o in (3, 4, 5, 6)} \
    | {7: "founded", 8: "founded"}
# Reaching these stages asks for the union fields of the file.
UNION_FIELD_STAGES = {"approved", "registered"}


def get(key: str) -> Stage:
    return BY_KEY[key]


def label(key: str | None) -> str:
    return BY_KEY[key].label if key in BY_KEY else ""


def union_status(key: str) -> str:
    stage = BY_KEY[key]
    return "none" if stage.is_side else _STATUS_BY_ORDER[stage.order]


def stages_with_status(status: str) -> list[str]:
    return [s.key for s in STAGES + SIDE_STATES if union_status(s.key) == status]


def move_kind(from_key: str | None, to_key: str) -> str:
    """initial | forward | skip | back | side | resume — what a move from → to is."""
    if from_key is None:
        return "initial"
    to, frm = BY_KEY[to_key], BY_KEY[from_key]
    if to.is_side:
        return "side"
    if frm.is_side:
        return "resume"
    if to.order == frm.order + 1:
        return "forward"
    return "skip" if to.order > frm.order else "back"


MOVE_KINDS = Choices(("initial", "建档"), ("forward", "推进"), ("skip", "跨阶段推进"), ("back", "回退"),
                     ("side", "转入特殊状态"), ("resume", "恢复推进"))
# Moves that must carry a note: anything but the next stage in order.
NOTE_REQUIRED = {"skip", "back", "side", "resume"}
