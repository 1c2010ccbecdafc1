"""审计日志 for admins: the events, filtered, and their export."""
from flask import Blueprint, render_template, request
from flask_login import login_required

from crm.audit import queries
from crm.audit.models import KINDS
from crm.common.timeutil import fmt_dt
from crm.db import stream_batches
from crm.fieldwork.ledger import xlsx_response
from crm.permissions import require

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")
PAGE = 50
COLUMNS = [("时间", 18), ("事件", 14), ("用户", 14), ("客户端地址", 16), ("对象", 16), ("说明", 60)]


@bp.route("/")
@login_required
def index():
    require("manage_system")
    args = queries.AuditArgs.from_request(request.args)
    rows = list(queries.filtered(args).paginate(args.page, PAGE + 1))
    return render_template("audit/index.html", rows=rows[:PAGE], has_next=len(rows) > PAGE, args=args, KINDS=KINDS)


@bp.route("/export.xlsx")
@login_required
def export():
    require("manage_system")
    args = queries.AuditArgs.from_request(request.args)

    def rows():
        for batch in stream_batches(queries.filtered(args)):
            for e in batch:
                yield [fmt_dt(e.at), e.kind_label, e.username, e.address,
                       f"{e.target_kind}:{e.target_id}" if e.target_kind else "", e.detail]

    return xlsx_response("审计日志", "审计日志", COLUMNS, rows())
