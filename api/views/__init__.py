"""The API's views, one module per resource; `api.urls` maps them to the v1 paths."""
