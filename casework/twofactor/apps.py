"""django.contrib.admin's app, whose default site is Sportello's (it asks for the second factor)."""

from django.contrib.admin.apps import AdminConfig


class SportelloAdminConfig(AdminConfig):
    """django.contrib.admin with SportelloAdminSite as `admin.site`: Django's documented way
    to replace the default site (loaded before the models, so the site is named, not imported)."""

    default_site = "casework.twofactor.adminsite.SportelloAdminSite"
