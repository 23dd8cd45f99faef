"""SLA: business-time arithmetic (pure), clocks on a case, the breach watch, recompute."""
