"""统计重算 as a job (系统管理 → 统计重算, admins): what `crm stats rebuild` does, unit by unit,
with its progress."""
from crm.audit import services as audit
from crm.jobs.registry import JobKind, register
from crm.stats import services

STATS_REBUILD = "stats_rebuild"


def run_rebuild(params, user, progress):
    progress(1, "正在清空旧的统计数据")
    services.rebuild(progress=lambda done, total: progress(min(99, 1 + done * 98 // max(1, total)),
                                                           f"已重算 {done} / {total} 个单位"))
    audit.record("stats_rebuild", user=user, detail="统计重算（后台任务）")
    return None


register(JobKind(STATS_REBUILD, "统计重算", run_rebuild, max_attempts=2))
