"""The demo's members: everyone 高米店 brought in this year signed up by the meeting's QR code and
was confirmed, so its roster holds the 292 members its meetings count; some came back to later
meetings (attendance, not new members). Its service activities take sign-ups too: one held with
check-ins, one full with a waiting list, one still open. Through the sign-up service, at the
records' own times."""
from datetime import datetime, time, timedelta, timezone

from crm.common.timeutil import LOCAL_TZ
from crm.demo.vocabulary import GIVEN, MOBILE_PREFIXES, SURNAMES
from crm.members import links, services
from crm.members.models import Member

COURIER_PLATFORMS = [("sf", "顺丰高米店营业部"), ("jd", "京东高米店站"), ("zto", "中通高米店网点"),
                     ("yto", "圆通兴丰街站"), ("yunda", "韵达高米店站"), ("ems", "高米店邮政支局")]
RIDER_PLATFORMS = [("meituan", "美团高米店站"), ("meituan", "美团兴业大街站"), ("eleme", "饿了么高米店站"),
                   ("shansong", "闪送大兴站"), ("dada", "达达高米店站")]


class Roster:
    def __init__(self, rng):
        self.rng = rng
        self.phones = set()
        self.people = []  # the answers of everyone who joined, for their later visits

    def _phone(self) -> str:
        while True:
            number = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10 ** 8):08d}"
            if number not in self.phones:
                self.phones.add(number)
                return number

    def person(self, group: str) -> dict:
        platform, station = self.rng.choice(COURIER_PLATFORMS if group == "courier" else RIDER_PLATFORMS)
        name = self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)
        return {"name": name, "number": self._phone(), "group": group, "platform": platform, "employer": "",
                "station": station}

    def meeting(self, meeting, new: dict, user, cards: int = 0):
        """The meeting's sign-ups: `new` {group: n} joining, a few members of earlier meetings
        coming back, all confirmed by the cadre; `cards` of the new ones got a mutual-aid card."""
        at = _utc(meeting.held_on, meeting.start_time or time(10, 0))
        target = links.Target("meeting", meeting, None)
        joined = [self.person(group) for group, n in new.items() for _ in range(n)]
        returning = self.rng.sample(self.people, min(len(self.people), self.rng.randint(0, 6)))
        signups = [services.enter(target, answers, at=at).signup for answers in joined + returning]
        services.decide([s.id for s in signups], user, confirm=True)
        for signup in signups[:min(cards, len(joined))]:
            services.set_card(Member.get_by_id(signup.member_id), user, True)
        self.people += joined


    def activity(self, activity, known: int, user, opened_on, check_in: int = 0):
        """Sign-ups to a published activity by `known` members of the roster, from `opened_on`
        (past the capacity they wait); the first `check_in` of them came."""
        target = links.Target("activity", activity, None)
        at = _utc(opened_on, time(9, 0))
        signups = [services.enter(target, a, at=at + timedelta(minutes=7 * n)).signup
                   for n, a in enumerate(self.rng.sample(self.people, min(known, len(self.people))))]
        for signup in signups[:check_in]:
            services.check_in(signup.id, user)


def _utc(day, moment) -> datetime:
    """A Beijing day and time as the naive UTC the database keeps."""
    return datetime.combine(day, moment, tzinfo=LOCAL_TZ).astimezone(timezone.utc).replace(tzinfo=None)
