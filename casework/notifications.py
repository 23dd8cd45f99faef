"""E-mails about cases, written to the outbox in the transaction that caused them.

`casework.mail` renders each in its reader's language and names its thread; `casework.outbox`
sends the rows; `casework.digest` gathers the held ones into one e-mail a day.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from celery import current_app
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q

from .mail import (
    MESSAGE_KINDS,
    REMINDER_KINDS,
    WRITTEN_AT_DELIVERY,
    latest_message_ids,
    new_message_id,
    preferences_of,
    render,
)
from .models import (
    Case,
    CaseParticipant,
    Channel,
    InboundEmail,
    Membership,
    Message,
    Notification,
    UserProfile,
)
from .policy import sees_case
from .roles import roles_of, roles_of_all

DELIVERY_TASK = "casework.tasks.deliver_notifications"


def deliver_soon() -> None:
    """Enqueue the outbox's delivery. The task is found by name, as `shared_task` finds it: the
    tasks module imports the domain (reminders, digests), never the other way round."""
    current_app.tasks[DELIVERY_TASK].delay()


@dataclass(frozen=True)
class Mail:
    """An e-mail about a case to queue: `emails/<kind>.txt` for each recipient.

    `message` is the message it is about, if any: its author is never among the recipients,
    and the e-mails of `MESSAGE_KINDS` are written from it at delivery.
    """

    case: Case
    recipients: Iterable
    kind: str
    dedupe: str
    context: dict | None = None
    message: Message | None = None


def notify(
    *,
    case: Case,
    recipients,
    kind: str,
    dedupe: str,
    context: dict | None = None,
    message: Message | None = None,
) -> None:
    """Queue one e-mail per recipient; a dedupe key already used means it was queued before.

    The template `emails/<kind>.txt` starts with the subject line; it is rendered in the
    recipient's language. Internal notes are never passed to templates meant for cooperatives.
    """
    notify_all(
        [
            Mail(
                case=case,
                recipients=recipients,
                kind=kind,
                dedupe=dedupe,
                context=context,
                message=message,
            )
        ]
    )


def notify_all(mails: Iterable[Mail], *, opening: bool = False) -> None:
    """Queue the e-mails of one move: the readers' preferences in one query, the previous
    e-mail of each case to each reader (for threading) in one more, rows in one INSERT.
    `opening`: the move opened the cases, so no e-mail about them came before and there is no
    thread to look up.

    A reader who chose the daily digest gets the e-mails about messages (`MESSAGE_KINDS`) as
    `held` rows for `casework.digest`; everything else is sent at once. Nobody is e-mailed
    about a case they may not see (`policy.sees_case`: a colleague's case, a confidential one,
    a cooperative they left), whoever the caller named.
    """
    addressed = []
    for mail in mails:
        author_id = mail.message.author_id if mail.message is not None else None
        users = {
            u
            for u in mail.recipients
            if u is not None and u.email and u.is_active and u.pk != author_id
        }
        if mail.case is not None:
            users = readers_of(mail.case, users)
        if users:
            addressed.append((mail, users))
    if not addressed:
        return
    preferences = preferences_of(user for _mail, users in addressed for user in users)
    previous = (
        {}
        if opening
        else _previous_ids({(mail.case.pk, user.pk) for mail, users in addressed for user in users})
    )
    by_pec = _pec_mailboxes(addressed)
    rows = []
    for mail, users in addressed:
        deferred = mail.kind in WRITTEN_AT_DELIVERY
        for user in sorted(users, key=lambda u: u.pk):
            language, choice = preferences[user.pk]
            # The e-mails about a message, and the reminders, are written at delivery
            # (`casework.outbox`), the reminders from their JSON `context`.
            subject, body = ("", "") if deferred else _words(mail, user, language)
            header_id = new_message_id(mail.case)
            thread = (mail.case.pk, user.pk)
            held = mail.kind in MESSAGE_KINDS and choice == UserProfile.Notify.DIGEST
            rows.append(
                Notification(
                    case=mail.case,
                    message=mail.message,
                    recipient=user,
                    email=user.email,
                    kind=mail.kind,
                    subject=subject,
                    body=body,
                    context=mail.context if mail.kind in REMINDER_KINDS else {},
                    dedupe_key=f"{mail.dedupe}:{user.pk}"[:200],
                    header_message_id=header_id,
                    in_reply_to="" if held else previous.get(thread, ""),
                    status=Notification.Status.HELD if held else Notification.Status.PENDING,
                    mailbox_id=by_pec.get(thread),
                )
            )
            if not held:
                previous[thread] = header_id
    # A key already used is skipped by the database, without a savepoint per row.
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    # Imported, after commit; `robust`: a broker that is down must not fail the change that queued
    # the rows (it is committed), and the periodic delivery picks them up.
    transaction.on_commit(deliver_soon, robust=True)


def readers_of(case: Case, users) -> set:
    """Of `users`, those who see `case` now (`policy.sees_case`): their roles in one query
    (kept on each user object), who follows the case in one more when a person of its
    cooperative is among them."""
    users = set(users)
    roles_of_all(users)
    roles = {user: roles_of(user) for user in users}
    participants = None
    if any(r.is_member_of(case.cooperative_id) for r in roles.values()):
        prefetched = getattr(case, "_prefetched_objects_cache", {}).get("participant_links")
        links = (
            CaseParticipant.objects.filter(case_id=case.pk).only("user_id")
            if prefetched is None
            else prefetched
        )
        participants = frozenset(link.user_id for link in links)
    return {user for user, r in roles.items() if sees_case(case, r, participants=participants)}


def withdraw_unseen(case: Case) -> int:
    """Drop the e-mails of the case not yet sent (waiting, or held for a digest) to people who
    no longer see it: the case became confidential, or someone stopped following it. A row a
    delivery run has already claimed is left to it. Returns how many were dropped."""
    waiting = Notification.objects.filter(
        case=case,
        status__in=[Notification.Status.PENDING, Notification.Status.HELD],
        claimed_at__isnull=True,
        recipient__isnull=False,
    ).select_related("recipient")
    rows = list(waiting)
    readers = readers_of(case, {row.recipient for row in rows})
    unseen = [row.pk for row in rows if row.recipient not in readers]
    if unseen:
        Notification.objects.filter(pk__in=unseen).delete()
    return len(unseen)


def _pec_mailboxes(addressed) -> dict[tuple[int, int], int]:
    """The PEC mailbox each e-mail to the cooperative's side of a PEC case leaves from: the one
    the case last came through (two queries for the batch, none without a PEC case).

    Only the cooperative's people (the requester, the cooperative's members) are answered by PEC;
    what staff get about the case is internal, and leaves from the site's address.
    """
    pec = {mail.case.pk: mail.case for mail, _ in addressed if mail.case.channel == Channel.PEC}
    if not pec:
        return {}
    came_through = dict(
        InboundEmail.objects.filter(case_id__in=pec, mailbox__is_pec=True)
        .order_by("case_id", "received_at", "id")
        .values_list("case_id", "mailbox_id")
    )  # the latest per case wins
    if not came_through:
        return {}
    people = {u.pk for mail, users in addressed if mail.case.pk in came_through for u in users}
    members = set(
        Membership.objects.filter(
            cooperative_id__in={case.cooperative_id for case in pec.values()}, user_id__in=people
        ).values_list("cooperative_id", "user_id")
    )
    senders = {}
    for mail, users in addressed:
        case = mail.case
        if case.pk not in came_through:
            continue
        for user in users:
            if user.pk == case.requester_id or (case.cooperative_id, user.pk) in members:
                senders[(case.pk, user.pk)] = came_through[case.pk]
    return senders


def _words(mail: Mail, user, language: str) -> tuple[str, str]:
    return render(
        kind=mail.kind, case=mail.case, user=user, context=mail.context, language=language
    )


def _previous_ids(threads: set[tuple[int, int]]) -> dict[tuple[int, int], str]:
    """The Message-ID of the latest e-mail sent or to send of each (case, person), one query.

    Held and digested rows were never sent on their own: a reply cannot follow them.
    """
    return latest_message_ids(
        threads, statuses=[Notification.Status.PENDING, Notification.Status.SENT]
    )


# --- The conversation --------------------------------------------------------------------------

# `@` and a username (Django's characters), not inside an e-mail address or a word.
MENTION = re.compile(r"(?<![\w.+@-])@([\w.@+-]+)")


def mentioned_usernames(text: str) -> set[str]:
    """The usernames `@name` in a text; a sentence's full stop after one is not part of it."""
    return {name.rstrip(".") for name in MENTION.findall(text or "")} - {""}


def notify_message(*, message: Message, from_staff: bool) -> None:
    """Tell the other side of the conversation about a message (the services call it).

    A public message of staff reaches the requester, the participants and the cooperative's
    people who wrote on the case; one of the cooperative reaches the assignee, or the area's
    supervisors while nobody holds the case. An internal note reaches only the colleagues it
    mentions who may see the case, never a member of the cooperative: it is never e-mailed to
    the cooperative.
    """
    case = message.case
    if message.internal:
        recipients = _mentioned_staff(case, mentioned_usernames(message.body))
        kind = "mention"
    elif from_staff:
        recipients = _cooperative_side(case)
        kind = "message_from_staff"
    else:
        recipients = [case.assignee] if case.assignee_id else _supervisors_of(case)
        kind = "message_from_cooperative"
    notify(
        case=case,
        recipients=recipients,
        kind=kind,
        dedupe=f"{kind}:{message.pk}",
        message=message,
    )


def notify_document(*, attachment, from_staff: bool) -> None:
    """A public document sent on its own (not on a message): news for the other side, as a
    message is. An internal document is never e-mailed: staff see it on the case page."""
    if attachment.internal:
        return
    case = attachment.case
    if from_staff:
        recipients = _cooperative_side(case)
    else:
        recipients = [case.assignee] if case.assignee_id else _supervisors_of(case)
    notify(
        case=case,
        recipients=[user for user in recipients if user.pk != attachment.uploaded_by_id],
        kind="document_added",
        dedupe=f"document_added:{attachment.pk}",
        context={
            "document": attachment.original_name,
            "size": attachment.size,
            "from_staff": from_staff,
            "sender": attachment.uploaded_by,
        },
    )


def _cooperative_side(case: Case) -> list:
    """The requester, the participants and the cooperative's people who wrote a public message
    on the case (of whom `notify_all` keeps those who still see it)."""
    # Ids from the case's own rows (its messages and participants, by their case index): joined
    # to every user instead, the ORs read every message of every case.
    wrote = Message.objects.filter(
        case=case, internal=False, author__memberships__cooperative_id=case.cooperative_id
    ).values("author_id")
    follows = CaseParticipant.objects.filter(case=case).values("user_id")
    return list(
        get_user_model().objects.filter(
            Q(pk=case.requester_id) | Q(pk__in=wrote) | Q(pk__in=follows)
        )
    )


def _supervisors_of(case: Case) -> list:
    """The supervisors of the case's area and those of every area."""
    return list(
        get_user_model()
        .objects.filter(Q(supervisor__all_areas=True) | Q(supervisor__areas=case.area_id))
        .distinct()
    )


def _mentioned_staff(case: Case, usernames: set[str]) -> list:
    """The mentioned people who may read the case's internal notes: its assignee, the area's
    consultants and supervisors; never a member of the case's cooperative."""
    if not usernames:
        return []
    may_see = (
        Q(consultant__is_active=True, consultant__areas=case.area_id)
        | Q(supervisor__all_areas=True)
        | Q(supervisor__areas=case.area_id)
    )
    if case.assignee_id:
        may_see |= Q(pk=case.assignee_id)
    return list(
        get_user_model()
        .objects.filter(may_see, username__in=usernames)
        .exclude(memberships__cooperative_id=case.cooperative_id)
        .distinct()
    )
