"""月度通报 as a job: the workbook of a unit's month (the district's takes seconds to build)."""
from crm.common.timeutil import local_today
from crm.dashboard import queries
from crm.fieldwork.ledger import XLSX_TYPE
from crm.jobs.registry import JobFailed, JobKind, Result, register
from crm.reports import monthly
from crm.reports.xlsx import workbook


def file_name(report) -> str:
    return f"{report.year}年{report.month}月月度通报-{report.scope.name}.xlsx"


def run_job(params, user, progress):
    """params {"org": unit id, "year": …, "month": …} (as the page chose them)."""
    unit = queries.unit_in_scope(user, params.get("org"))
    if unit is None:
        raise JobFailed("单位不存在或不在管辖范围内")
    today = local_today()
    year, month = int(params.get("year", 0)), int(params.get("month", 0))
    if not queries.month_asked(year, month, today):
        raise JobFailed("月份不正确")
    progress(5, "正在汇总各单位的数字")
    report = monthly.build(user, unit, year, month, today)
    progress(70, "正在生成表格")
    data = workbook(report)
    return Result(file_name(report), XLSX_TYPE, data=data)


register(JobKind("monthly_workbook", "月度通报 Excel", run_job))
