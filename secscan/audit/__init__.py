"""Tamper-evident records of what secscan decided: the audit trail and the report manifest."""
