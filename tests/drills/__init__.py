"""Drills against real services: concurrency, idempotency, faults, load, scale-out, backups.

Each drill is a `slow` test (so `make test` skips it; `make drills` runs them all). Every drill
works on a throw-away PostgreSQL database of its own, starts the real processes it needs (gunicorn,
Celery workers, beat) on loopback, bounds itself in time and requests, stops everything it started
and drops its database, even when it fails. Each prints what it tried and a table of what held.
"""
