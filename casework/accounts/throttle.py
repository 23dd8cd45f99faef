"""A brake on requests that send e-mail to someone else's address (password resets): so many per
address and per client address in a window, counted in the cache every process shares (CACHES,
as api.throttling and the login lockout count there), so that the budget is the site's, not each
worker's.

The window is fixed (it starts at a multiple of its length): a burst at its edge may get twice
the budget, which is harmless for a brake on e-mails; the counter is one atomic INCR in Redis.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Requests per e-mail address typed, and per client address, in the window; settings may say
# otherwise (PASSWORD_RESET_THROTTLE_RATES = {"address": "5/h", "client": "20/h"}).
DEFAULT_RATES = {"address": "5/h", "client": "20/h"}


def _rate(text: str) -> tuple[int, int]:
    count, period = text.split("/")
    return int(count), _SECONDS[period.strip()[0]]


def rates() -> dict[str, tuple[int, int]]:
    chosen = {**DEFAULT_RATES, **getattr(settings, "PASSWORD_RESET_THROTTLE_RATES", {})}
    return {kind: _rate(text) for kind, text in chosen.items()}


@dataclass(frozen=True)
class Refusal:
    kind: str  # "address" or "client"
    retry_after: int  # seconds until the window ends


def spend(scope: str, idents: dict[str, str]) -> Refusal | None:
    """Spend one request on each counter (`{"address": ..., "client": ...}`); the refusal of
    the first counter over its budget, or None. A refused request spends nothing more."""
    now = time.time()
    refusal = None
    for kind, ident in idents.items():
        limit, window = rates()[kind]
        start = int(now // window) * window
        # Hashed: the address is whatever the client typed, and keys must suit any cache.
        digest = hashlib.sha256((ident or "").casefold().encode()).hexdigest()
        key = f"throttle_{scope}_{kind}_{digest}_{start}"
        cache.add(key, 0, timeout=window)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between the two calls: a new window
            cache.add(key, 1, timeout=window)
            count = 1
        if count > limit and refusal is None:
            refusal = Refusal(kind=kind, retry_after=max(1, int(start + window - now)))
    return refusal
