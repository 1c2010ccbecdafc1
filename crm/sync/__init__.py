"""Forms that reach the server once: the form-key ledger (one submission of one content per key),
and what lets field work go on without a network (service worker, outbox, offline page)."""
