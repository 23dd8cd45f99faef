"""Template tags of the portal and the dashboard."""
