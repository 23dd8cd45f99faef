"""The supervisor dashboard and the cooperative reports, with their server-drawn charts."""
