"""后台任务: long work (big exports, the monthly workbook) as jobs on a queue (Huey), run by
`crm worker`. The Job row is the truth; the queue carries only its id. Features register their
kinds in crm.jobs.registry; crm.jobs.services submits and runs them; crm.jobs.queue binds Huey."""
