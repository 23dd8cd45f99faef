"""The consultant workspace and the supervisor's queues (under /work/)."""

from django.urls import path

from casework.accounts import people

from . import (
    cases,
    composer,
    cooperative,
    deadlines,
    hours,
    intake,
    mail,
    search,
    sharing,
    views,
)

app_name = "work"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("queue/", views.queue, name="queue"),
    # The header's search box: a reference opens its case, other words go to the case list.
    path("search/", search.search, name="search"),
    path("tasks/<int:task_pk>/", views.task_open, name="task"),
    path("tasks/<int:task_id>/claim/", views.claim, name="claim"),
    path("tasks/<int:task_id>/release/", views.release, name="release"),
    # The staff case list, its CSV, saved views and bulk actions (before `cases/<id>/`).
    *cases.urlpatterns,
    path("cases/new/", intake.case_new, name="case_new"),
    path("cases/<int:case_id>/", views.case_page, name="case"),
    path(
        "cases/<int:case_id>/documents/<int:attachment_id>/",
        views.attachment,
        name="attachment",
    ),
    # One URL per action of the case page, each posting to one process function.
    *(
        path(
            f"cases/<int:case_id>/{action.slug}/",
            views.case_action,
            {"action": action.slug},
            name=action.url_name,
        )
        for action in views.CASE_ACTIONS
    ),
    # The composer: reply, note, request for information, resolution, hand-back, time.
    path("cases/<int:case_id>/compose/", views.compose, name="compose"),
    # The per-action URLs of the composer's modes (earlier pages posted there) send through it.
    *(
        path(
            f"cases/<int:case_id>/{mode.slug}/",
            views.compose,
            {"mode": mode.slug},
            name=mode.slug.replace("-", "_"),
        )
        for mode in composer.MODES
    ),
    # Who sees and follows the case: confidentiality and participants.
    path(
        "cases/<int:case_id>/confidential/",
        sharing.case_confidential,
        name="case_confidential",
    ),
    path("cases/<int:case_id>/participants/", sharing.participant_add, name="participant_add"),
    path(
        "cases/<int:case_id>/participants/<int:user_id>/remove/",
        sharing.participant_remove,
        name="participant_remove",
    ),
    # Deadlines: the page of one's deadlines, and a case's (added, changed, done, reopened).
    *deadlines.urlpatterns,
    # Hours: a time entry corrected or deleted on the case page; the billing file of a period.
    path(
        "cases/<int:case_id>/time-entries/<int:entry_id>/",
        hours.entry_change,
        name="time_entry_change",
    ),
    path(
        "cases/<int:case_id>/time-entries/<int:entry_id>/delete/",
        hours.entry_delete,
        name="time_entry_delete",
    ),
    path("reports/billing.csv", hours.billing_csv, name="billing_csv"),
    path("followups/<int:task_id>/", views.follow_up, name="follow_up"),
    path("cooperatives/<int:pk>/", cooperative.cooperative_page, name="cooperative"),
    # Its people: invite, resend, revoke, remove (casework.accounts.people).
    *people.workspace_urlpatterns(),
    # Unmatched mail: a supervisor links it to a cooperative (opening its case) or discards it.
    path("mail/", mail.mail_list, name="mail"),
    path("mail/<int:inbound_id>/", mail.mail_detail, name="mail_detail"),
    path("mail/<int:inbound_id>/link/", mail.mail_link, name="mail_link"),
    path("mail/<int:inbound_id>/discard/", mail.mail_discard, name="mail_discard"),
    path("mail/<int:inbound_id>/original.eml", mail.mail_original, name="mail_original"),
]
