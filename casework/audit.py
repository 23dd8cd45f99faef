"""Accountability records for GDPR: which member of the federation's staff read which case."""

from __future__ import annotations

from datetime import timedelta

from django.db import connections, router
from django.utils import timezone

from .models import Case, CaseAccess
from .roles import roles_of

# A refresh or a second tab within this window is the same read, not a new row.
READ_WINDOW = timedelta(minutes=5)


def case_read_recorded(*, user, case: Case, channel: str) -> bool:
    """Record that staff read `case` through `channel`; True when a row was written.

    Members reading their own cooperative's cases are the data subjects, not readers to account
    for, so only staff roles are recorded (a consultant who is also a member of the case's
    cooperative reads it as a member). At most one row per user, case and channel per
    READ_WINDOW.
    """
    roles = roles_of(user)
    if not roles.is_staff_role or roles.is_member_of(case.cooperative_id):
        return False
    if channel not in CaseAccess.Channel.values:
        raise ValueError(f"Unknown channel {channel!r}")
    now = timezone.now()
    # One statement whether or not a row is written, so that a page costs the same number of
    # queries on every refresh (the pages' query counts are asserted).
    meta = CaseAccess._meta
    connection = connections[router.db_for_write(CaseAccess)]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    user_col, case_col, channel_col, at_col = (
        quote(meta.get_field(name).column) for name in ("user", "case", "channel", "accessed_at")
    )
    sql = (
        f"INSERT INTO {table} ({user_col}, {case_col}, {channel_col}, {at_col}) "
        f"SELECT %s, %s, %s, %s WHERE NOT EXISTS ("
        f"SELECT 1 FROM {table} WHERE {user_col} = %s AND {case_col} = %s "
        f"AND {channel_col} = %s AND {at_col} > %s)"
    )
    at_field = meta.get_field("accessed_at")
    stamp = at_field.get_db_prep_value(now, connection)
    since = at_field.get_db_prep_value(now - READ_WINDOW, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk, case.pk, channel, stamp, user.pk, case.pk, channel, since])
        return cursor.rowcount == 1
