"""The Django project itself: settings, URL map, Celery app, WSGI/ASGI entry points, middleware."""
