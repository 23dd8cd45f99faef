"""Template tags of the portal and the dashboard: SLA in words, SVG charts."""
