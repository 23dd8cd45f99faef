"""REST API v1 routes."""

app_name = "api"
urlpatterns: list = []
