"""Sportello's domain (cooperatives, cases, SLA), its Django project (`config`) and its pages."""

from .config.celery import app as celery_app

__all__ = ("celery_app",)
