"""The consultant workspace and the supervisors' queues (under /work/): views, forms, urls."""
