"""The security log ("crm.security"): sign-ins, lockouts, denials, changes of access. The audit
log (crm.audit) is what admins read; this is what an operator's log collector gets."""
import logging

log = logging.getLogger("crm.security")
