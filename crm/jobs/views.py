"""后台任务 pages: my jobs (an admin: everyone's), one job with its progress (refreshed by
crm/static/jobs.js from its .json), 重试 for a failed one, 下载 for a done one until it expires.
Another user's job is a 404. Also the queue's readiness check for /readyz."""
from urllib.parse import unquote

from flask import Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.exceptions import HTTPException

from crm import storage
from crm.audit import services as audit
from crm.common.errors import ServiceError
from crm.common.numbers import arg_page
from crm.common.timeutil import fmt_dt
from crm.fieldwork.ledger import longer_than
from crm.jobs import registry, services
from crm.jobs.models import Job
from crm.permissions import get_job_or_404, is_admin, visible_jobs
from crm.web import health

bp = Blueprint("jobs", __name__, url_prefix="/jobs")
PAGE = 50
REFRESH_SECONDS = 2


def _queue_reachable():
    return current_app.extensions["jobs"].reachable()


health.register("queue", _queue_reachable)


def title_of(job) -> str:
    spec = registry.get(job.kind)
    return spec.title if spec else job.kind


@bp.route("/")
@login_required
def index():
    page = arg_page(request.args)
    rows = list(visible_jobs(current_user).order_by(Job.id.desc()).offset((page - 1) * PAGE).limit(PAGE + 1))
    return render_template("jobs/index.html", jobs=rows[:PAGE], page=page, has_next=len(rows) > PAGE,
                           title_of=title_of, everyone=is_admin(current_user))


@bp.route("/<int:job_id>")
@login_required
def show(job_id):
    job = get_job_or_404(job_id, current_user)
    return render_template("jobs/show.html", job=job, title=title_of(job), refresh=REFRESH_SECONDS,
                           downloadable=services.result_file(job) is not None)


@bp.route("/<int:job_id>.json")
@login_required
def status(job_id):
    job = get_job_or_404(job_id, current_user)
    downloadable = services.result_file(job) is not None
    return jsonify(id=job.id, state=job.state, state_label=job.state_label, progress=job.progress,
                   progress_text=job.progress_text, error=job.error, attempts=job.attempts,
                   max_attempts=job.max_attempts, finished_at=fmt_dt(job.finished_at),
                   download_url=url_for("jobs.download", job_id=job.id) if downloadable else None)


@bp.post("/<int:job_id>/retry")
@login_required
def retry(job_id):
    job = get_job_or_404(job_id, current_user)
    try:
        services.retry(job, current_user)
        flash("任务已重新排队", "success")
    except ServiceError as e:
        flash(str(e), "warning")
    return redirect(url_for("jobs.show", job_id=job.id))


@bp.route("/<int:job_id>/download")
@login_required
def download(job_id):
    job = get_job_or_404(job_id, current_user)
    response = None
    if job.downloadable():  # streamed from the storage, whichever server made it
        response = storage.send(services.result_key(job.result_path), as_attachment=True, max_age=0,
                                mimetype=job.result_type or "application/octet-stream",
                                download_name=job.result_name or "result")
    if response is None:
        abort(404)
    spec = registry.get(job.kind)
    if spec is not None and spec.audit_download:
        audit.record(spec.audit_download, target=("job", job.id), detail=f"下载 {job.result_name}")
    return response


def start_or_confirm(kind: str, params: dict, title: str, message: str, back: str):
    """For a page whose work is long: a POST (with its CSRF token) submits the job and goes to
    its page; a GET (a link, a bookmark) shows what will happen and the button that posts."""
    if request.method == "POST":
        job = services.submit(kind, params, current_user)
        return redirect(url_for("jobs.show", job_id=job.id))
    return render_template("jobs/confirm.html", title=title, message=message, action=request.full_path,
                           back=back)


# ---- any ledger's export as a job: the export's own view, replayed in the worker as its user ----------

LEDGER_EXPORT = "ledger_export"
def replaying() -> bool:
    """Inside a worker's replay of an export (which then writes the workbook itself)."""
    return bool(g.get("job_replay"))


def offer_if_long(query, title: str):
    """For an export view: when `query` has more than EXPORT_INLINE_ROWS rows (and this is not
    the job's own run), the answer that makes it a job; else None (export at once)."""
    endpoint = request.endpoint
    limit = current_app.config["EXPORT_INLINE_ROWS"]
    if replaying() or not longer_than(query, limit):
        return None
    query_string = request.query_string.decode("utf-8", "replace")
    listing = endpoint.rsplit(".", 1)[0] + ".index"
    back = url_for(listing) if listing in current_app.view_functions else url_for("jobs.index")
    return start_or_confirm(LEDGER_EXPORT, {"endpoint": endpoint, "query": query_string}, f"导出{title}",
                            f"筛选出的记录超过 {limit} 条，", back + (f"?{query_string}" if query_string else ""))


def _download_name(response) -> str:
    disposition = response.headers.get("Content-Disposition", "")
    if "filename*=UTF-8''" in disposition:
        return unquote(disposition.split("filename*=UTF-8''", 1)[1].split(";")[0])
    return "export.xlsx"


def run_ledger_export(params, user, progress):
    """params {"endpoint": an export's endpoint, "query": its query string}: the view run in a
    request context of its own, signed in as the user who asked (the same scope, filters, columns
    and audit line as the page's download)."""
    endpoint = params.get("endpoint", "")
    view = current_app.view_functions.get(endpoint)
    if view is None or not endpoint.endswith("export"):  # (only offer_if_long writes these params)
        raise registry.JobFailed("未知的导出")
    progress(5, "正在导出")
    path = current_app.url_map.bind("localhost").build(endpoint)
    with current_app.test_request_context(path, query_string=params.get("query", ""),
                                          environ_base={"REMOTE_ADDR": ""}):
        g._login_user = user  # Flask-Login's current_user for this context
        g.job_replay = True
        try:
            response = current_app.make_response(view())
        except HTTPException as exc:
            raise registry.JobFailed("没有权限导出，或筛选的单位不在管辖范围内" if exc.code in (403, 404)
                                     else "导出的筛选条件不正确")
        if response.status_code != 200 or not response.headers.get("Content-Disposition"):
            raise registry.JobFailed("导出的筛选条件不正确")
        return registry.Result(_download_name(response), response.mimetype, data=response.get_data())


registry.register(registry.JobKind(LEDGER_EXPORT, "台账导出", run_ledger_export))
