"""The cooperative portal and the supervisor dashboard."""

urlpatterns: list = []
