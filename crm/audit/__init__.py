"""The audit log: who did what that an auditor asks about (sign-ins, denials, role and scope
changes, full phone numbers read, personal data exported, imports, backups), with time, user and
client address. Admins read and export it; it is kept for CRM_AUDIT_DAYS."""
