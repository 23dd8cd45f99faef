"""Sportello's domain and Django project: cooperatives, cases, SLA policies and calendars."""

from .config.celery import app as celery_app

__all__ = ("celery_app",)
