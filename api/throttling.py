"""The API sign-in's brake on password guessing: failed attempts per client address and username.

Only failures spend the budget, the "login" rate (REST_FRAMEWORK's DEFAULT_THROTTLE_RATES, from
LOGIN_THROTTLE_RATE), so a whole office behind one address signs in as often as it needs; once
that many wrong passwords were given for one username, or from one address, within a window
that began at the first of them, further attempts get a 429 until that window ends.

The counters live in the cache that every process shares (CACHES, from CACHE_URL): in each
worker's own memory they would allow that many failures per worker.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.core.cache import cache
from rest_framework.exceptions import Throttled
from rest_framework.settings import api_settings

from casework.config.middleware import client_ip

SCOPE = "login"
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _rate() -> tuple[int, int]:
    """(failures allowed, window in seconds), from a rate such as "10/min"."""
    count, period = api_settings.DEFAULT_THROTTLE_RATES[SCOPE].split("/")
    return int(count), _SECONDS[period[0]]


@dataclass(frozen=True)
class _Counter:
    key: str
    ends_at: float


def _counter(kind: str, ident: str, now: float, window: int) -> _Counter:
    """The counter of the window `ident` is in; a window begins with its first failure."""
    # Hashed: the username is whatever the client typed, and keys must suit any cache backend.
    base = f"throttle_{SCOPE}_{kind}_{hashlib.sha256(ident.encode()).hexdigest()}"
    cache.add(f"{base}_since", now, timeout=window)
    since = cache.get(f"{base}_since", now)
    return _Counter(f"{base}_{since!r}", since + window)


def _counters(request, username: str, now: float, window: int) -> list[_Counter]:
    """The counters an attempt spends: its client's address, and the username it tries.

    The address is the one casework.config.middleware.client_ip trusts, as the login page's
    lockout does: only what our SPORTELLO_TRUSTED_PROXIES appended to X-Forwarded-For, never what
    the client wrote there (DRF's own get_ident would take that).
    """
    return [
        _counter("address", client_ip(request) or "", now, window),
        _counter("username", username.strip().casefold(), now, window),
    ]


def _adjust(counter: _Counter, delta: int, now: float) -> int:
    count = cache.incr(counter.key, delta)
    # Redis keeps a counter's expiry through INCR; the file and database caches rewrite the
    # entry with their default timeout instead, which need not be the end of its window.
    cache.touch(counter.key, max(counter.ends_at - now, 1))
    return count


def _spend(counter: _Counter, now: float) -> int:
    """One more on the counter: the count it now holds."""
    timeout = max(counter.ends_at - now, 1)
    cache.add(counter.key, 0, timeout=timeout)
    try:
        return _adjust(counter, 1, now)
    except ValueError:  # it expired between the two calls
        cache.add(counter.key, 1, timeout=timeout)
        return 1


@dataclass
class SignInAttempt:
    """One attempt's share of the budget, spent until the password proves right."""

    counters: list[_Counter]

    def refund(self) -> None:
        now = time.time()
        for counter in self.counters:
            try:
                _adjust(counter, -1, now)
            except ValueError:  # its window has ended already
                pass


def begin_sign_in(request, username: str) -> SignInAttempt:
    """Spend one failure before the password is checked; a 429 when the budget is gone.

    Spending first (an atomic increment in Redis) and refunding a right password means that a
    burst of simultaneous guesses cannot all pass a check made before any of them had failed.
    """
    limit, window = _rate()
    now = time.time()
    attempt = SignInAttempt(_counters(request, username, now, window))
    spent = [(counter, _spend(counter, now)) for counter in attempt.counters]
    exhausted = [counter.ends_at for counter, count in spent if count > limit]
    if exhausted:
        attempt.refund()  # a refused attempt tested no password
        # At least a second: another server's clock may have started the window.
        raise Throttled(wait=max(1, math.ceil(max(exhausted) - now)))
    return attempt
