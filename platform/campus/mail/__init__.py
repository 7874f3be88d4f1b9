"""Outgoing email: stored rows, delivered by a Celery task to SMTP or the outbox folder."""
