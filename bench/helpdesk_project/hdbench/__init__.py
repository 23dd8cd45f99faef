"""A minimal Django project around django-helpdesk 2.6.1, for bench/helpdesk.py."""
