"""The consultant workspace and the supervisor's queues (under /work/)."""

app_name = "work"
urlpatterns: list = []
