"""Running the queued jobs (后台任务) in the test's own thread, through crm.jobs.services.run(id),
as a worker would (the queue's wake-up calls are left where they are)."""
from crm.jobs import services
from crm.jobs.models import Job


def run_jobs(app, kind: str | None = None) -> int:
    """Run every queued job that is due (of `kind`), oldest first, until none is left; how many ran."""
    ran = 0
    with app.app_context():
        while True:
            query = Job.select(Job.id).where(Job.state == "queued").order_by(Job.id)
            if kind:
                query = query.where(Job.kind == kind)
            ids = [j.id for j in query]
            done = sum(1 for job_id in ids if services.run(job_id))
            ran += done
            if not done:
                return ran
