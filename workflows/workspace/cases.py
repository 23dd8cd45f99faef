"""The staff case list (`/work/cases/`): every case the reader sees as staff, filtered, sorted
and paged; saved views of it; the CSV of its filtered rows; the supervisors' bulk actions.

The list's state is its query string (`?status=assigned&status=waiting&area=legal&sort=-due`):
pages, column headers, the CSV link and saved views all carry it, so a link to the list is the
list. `casework.case_links` builds such links for the dashboard and the cooperative's page.
`?q=` is `casework.search.search_cases` (full text on PostgreSQL, a plain match on SQLite).

A page costs a fixed number of queries whatever its size (the roles, the saved views, the
choices of the filters, one COUNT and one query for the rows). The count is an exact COUNT(*)
of the filtered cases: Django drops the read-state annotations from it, and the filters are
columns of the case served by its composite indexes (area, status, sla_state, assignee), so at
a million cases it stays an index scan of the cases that match rather than of them all.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from html import escape

import django_filters
from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import (
    BooleanField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models import Case as Choose
from django.forms.utils import flatatt
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from casework import csvexport
from casework.errors import CaseError
from casework.models import (
    PRIORITY_RANK,
    Case,
    CaseStatus,
    Channel,
    Consultant,
    Cooperative,
    Office,
    PracticeArea,
    Priority,
    SavedView,
    SlaState,
    UserProfile,
)
from casework.models.cases import due_that_matters
from casework.presenters import SlaSummary, sla_summary
from casework.roles import Roles, roles_of
from casework.search import search_cases, validate_query
from casework.selectors import filter_unread, staff_cases_of, with_read_state
from casework.validators import id_in
from workflows import process

from .forms import WorkspaceForm
from .views import _back, staff_required

PAGE_SIZE = 50
#: The most cases one bulk action takes (a page holds 50; more is a crafted request).
BULK_LIMIT = 200
NOBODY = "nobody"
ME = "me"
UNSHOWN_FIELDS = ("description", "resolution_summary", "search_public", "search_staff")


# --- Rows ----------------------------------------------------------------------------------


def staff_case_rows(user, *, export: bool = False) -> QuerySet[Case]:
    """Every case `user` sees as federation staff (`casework.selectors.staff_cases_of`: a
    consultant their areas' and those assigned to them), with what a row of the list shows in
    the list's one query: the read state for the list, the outcome and rating for the CSV, and
    `sla_due`, the due instant of the clock that matters."""
    # The long texts and the search documents stay in the database: no row shows them.
    cases = staff_cases_of(user).defer(*UNSHOWN_FIELDS).annotate(sla_due=due_that_matters())
    if export:
        return cases.select_related("cooperative", "area", "assignee", "outcome", "rating")
    # The page's cooperatives, areas and assignees come in queries of their own: joined, they
    # were joined to every case the filters keep before the sort picked the page's fifty
    # (16,000 open cases of an area at a million: 50 ms of joins and a sort of wide rows).
    return with_read_state(cases.prefetch_related("cooperative", "area", "assignee"), user)


# --- Sorting -------------------------------------------------------------------------------


def _rank(column: str, ranks: dict[str, int]) -> Choose:
    return Choose(
        *(When(**{column: code}, then=Value(rank)) for code, rank in ranks.items()),
        output_field=IntegerField(),
    )


@dataclass(frozen=True)
class Column:
    """A sortable column: its key in `?sort=`, its heading, what it orders by (ascending), and
    the direction its first click asks for (dates and priority: the newest or highest first)."""

    key: str
    label: str
    order: tuple
    first: str = "asc"
    nullable: bool = False


STATUS_RANK = {status.value: index for index, status in enumerate(CaseStatus)}
COLUMNS = (
    Column("reference", gettext_lazy("Reference"), ("reference",)),
    Column("subject", gettext_lazy("Subject"), ("subject",)),
    Column("cooperative", gettext_lazy("Cooperative"), ("cooperative__name",)),
    Column("area", gettext_lazy("Area"), ("area__position", "area__name")),
    Column("status", gettext_lazy("Status"), (_rank("status", STATUS_RANK),)),
    Column("priority", gettext_lazy("Priority"), (_rank("priority", PRIORITY_RANK),), first="desc"),
    Column("due", gettext_lazy("SLA"), ("sla_due",), nullable=True),
    Column(
        "assignee",
        gettext_lazy("Assignee"),
        ("assignee__last_name", "assignee__first_name", "assignee__username"),
        nullable=True,
    ),
    Column("opened", gettext_lazy("Opened"), ("created_at",), first="desc"),
    Column("activity", gettext_lazy("Last activity"), ("last_activity_at",), first="desc"),
)
COLUMNS_BY_KEY = {column.key: column for column in COLUMNS}
#: Newest activity first: the order of the index `case_last_activity`.
DEFAULT_SORT = "-activity"
SORT_CHOICES = [(key, key) for column in COLUMNS for key in (column.key, f"-{column.key}")]


def _ordered(cases: QuerySet[Case], sort: str) -> QuerySet[Case]:
    """The cases in the order `sort` names ("-due": the latest due first), then by id; without
    one, a search's own order (best matches first), else `DEFAULT_SORT`."""
    if not sort and "search_rank" in cases.query.annotations:
        return cases
    sort = sort or DEFAULT_SORT
    descending = sort.startswith("-")
    column = COLUMNS_BY_KEY[sort.removeprefix("-")]
    nulls = {"nulls_last": True} if column.nullable else {}
    order = []
    for term in (*column.order, "id"):
        expression = F(term) if isinstance(term, str) else term
        order.append(expression.desc(**nulls) if descending else expression.asc(**nulls))
    return cases.order_by(*order)


# --- Filters -------------------------------------------------------------------------------


def _name(username: str, first: str, last: str) -> str:
    """A person's name as the lists show it, from their user's columns read as plain values
    (what `User.get_full_name() or username` says of a loaded user)."""
    return f"{first} {last}".strip() or username


class LongSelect(forms.Select):
    """A select of many options (every consultant of the federation), its options written here
    rather than through Django's per-option widget templates: those cost a supervisor's page
    of the list 0.1 ms an option, 900 consultants twice over."""

    def render(self, name, value, attrs=None, renderer=None):
        final = self.build_attrs(self.attrs, attrs)
        final["name"] = name
        chosen = set(self.format_value(value))
        # The standard library's escape (what Django's does) on plain strings, without
        # format_html's checks of each argument: a thousand options cost 1 ms, not 10.
        options = "".join(
            f'<option value="{escape(str(code))}"{" selected" if str(code) in chosen else ""}>'
            f"{escape(str(label))}</option>"
            for code, label in self.choices
        )
        return format_html("<select{}>{}</select>", flatatt(final), mark_safe(options))


class InFilter(django_filters.MultipleChoiceFilter):
    """One or more values of a column, as `column IN (…)`: what the composite indexes serve."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("distinct", False)
        kwargs.setdefault("widget", forms.CheckboxSelectMultiple)
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(**{f"{self.field_name}__in": value})


class CaseListForm(WorkspaceForm):
    sort = forms.ChoiceField(required=False, choices=SORT_CHOICES, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        start, end = data.get("opened_from"), data.get("opened_to")
        if start and end and start > end:
            self.add_error("opened_to", _("The end date is before the start date."))
        return data


def _date_input() -> forms.DateInput:
    return forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


def _local_midnight_utc(day: date) -> datetime | None:
    """The start of `day` in the federation's time zone, in UTC; None when it cannot be written
    (before year 1 or after year 9999 once moved to UTC)."""
    try:
        start = timezone.make_aware(datetime.combine(day, time.min))
        return start.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


class CaseListFilter(django_filters.FilterSet):
    """The list's filters; each choice is checked, so an unknown value is a form error (400)."""

    q = django_filters.CharFilter(
        method="filter_q",
        label=gettext_lazy("Search"),
        help_text=gettext_lazy("Words, a reference, a tax code or a cooperative's name."),
        validators=[validate_query],
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    status = InFilter(choices=CaseStatus.choices, label=gettext_lazy("Status"))
    area = django_filters.ChoiceFilter(
        method="filter_area", label=gettext_lazy("Area"), empty_label=gettext_lazy("All areas")
    )
    office = django_filters.ChoiceFilter(
        method="filter_office",
        label=gettext_lazy("Office of the cooperative"),
        empty_label=gettext_lazy("All offices"),
    )
    cooperative = django_filters.ChoiceFilter(
        field_name="cooperative_id",
        label=gettext_lazy("Cooperative"),
        empty_label=gettext_lazy("All cooperatives"),
    )
    assignee = django_filters.ChoiceFilter(
        method="filter_assignee",
        label=gettext_lazy("Assignee"),
        empty_label=gettext_lazy("Anyone"),
        widget=LongSelect,
    )
    priority = InFilter(choices=Priority.choices, label=gettext_lazy("Priority"))
    sla = InFilter(field_name="sla_state", choices=SlaState.choices, label=gettext_lazy("SLA"))
    channel = InFilter(choices=Channel.choices, label=gettext_lazy("Channel"))
    unread = django_filters.ChoiceFilter(
        method="filter_unread",
        label=gettext_lazy("Read state"),
        choices=[("true", gettext_lazy("Unread only")), ("false", gettext_lazy("Read only"))],
        empty_label=gettext_lazy("Read or unread"),
    )
    opened_from = django_filters.DateFilter(
        method="filter_opened_from", label=gettext_lazy("Opened from"), widget=_date_input()
    )
    opened_to = django_filters.DateFilter(
        method="filter_opened_to", label=gettext_lazy("Opened until"), widget=_date_input()
    )

    class Meta:
        model = Case
        fields: list[str] = []
        form = CaseListForm

    def __init__(self, data=None, queryset=None, *, request, export: bool = False, **kwargs):
        super().__init__(data, queryset, request=request, **kwargs)
        self.export = export
        roles = roles_of(request.user)
        self.areas = list(
            PracticeArea.objects.order_by("position", "name").values_list("id", "code", "name")
        )
        self._area_ids = {code: pk for pk, code, _name in self.areas}
        offices = list(Office.objects.order_by("name").values_list("id", "code", "name"))
        self._office_ids = {code: pk for pk, code, _name in offices}
        self.filters["area"].extra["choices"] = [(code, name) for _pk, code, name in self.areas]
        self.filters["office"].extra["choices"] = [(code, name) for _pk, code, name in offices]
        self._cooperative_choices()
        self._assignee_choices(roles)

    def _cooperative_choices(self) -> None:
        """Only the cooperative chosen (from a row, or the cooperative's page): a federation has
        thousands, and the search box finds them by name or tax code."""
        cooperative_filter = self.filters["cooperative"]
        chosen = id_in(str(self.data.get("cooperative", ""))) if self.data else None
        choices = []
        if chosen is not None:
            choices = list(Cooperative.objects.filter(pk=chosen).values_list("id", "name"))
        if not choices:
            cooperative_filter.extra["widget"] = forms.HiddenInput
        cooperative_filter.extra["choices"] = [(str(pk), name) for pk, name in choices]

    def _assignee_choices(self, roles: Roles) -> None:
        consultants = Consultant.objects.all()
        if not roles.supervises_all:
            consultants = consultants.filter(areas__in=roles.staff_area_ids)
        people = (
            consultants.order_by("user__last_name", "user__first_name", "user__username")
            .values_list("user_id", "user__username", "user__first_name", "user__last_name")
            .distinct()
        )
        self._assignee_ids = {}
        choices = [(NOBODY, _("Nobody (not assigned)")), (ME, _("Me"))]
        for user_id, username, first, last in people:
            self._assignee_ids[username] = user_id
            choices.append((username, _name(username, first, last)))
        self.filters["assignee"].extra["choices"] = choices

    # Each filter method receives a value its field has already checked against its choices.

    def filter_q(self, queryset, name, value):
        # The CSV shows no snippet: it does not ask the database for one per row.
        return search_cases(
            queryset, query=value, user=self.request.user, staff=True, highlight=not self.export
        )

    def filter_area(self, queryset, name, value):
        return queryset.filter(area_id=self._area_ids[value])

    def filter_office(self, queryset, name, value):
        return queryset.filter(cooperative__office_id=self._office_ids[value])

    def filter_assignee(self, queryset, name, value):
        if value == NOBODY:
            return queryset.filter(assignee__isnull=True)
        if value == ME:
            return queryset.filter(assignee_id=self.request.user.pk)
        return queryset.filter(assignee_id=self._assignee_ids[value])

    def filter_unread(self, queryset, name, value):
        return filter_unread(queryset, self.request.user, unread=value == "true")

    def filter_opened_from(self, queryset, name, value):
        start = _local_midnight_utc(value)
        return queryset if start is None else queryset.filter(created_at__gte=start)

    def filter_opened_to(self, queryset, name, value):
        # Up to the end of that day: before the next midnight (none after 31 December 9999).
        end = None if value >= date.max else _local_midnight_utc(value + timedelta(days=1))
        return queryset if end is None else queryset.filter(created_at__lt=end)

    def filter_queryset(self, queryset):
        """The filters of the valid form, then the order asked for (`?sort=`)."""
        data = self.form.cleaned_data
        for name, filter_ in self.filters.items():
            queryset = filter_.filter(queryset, data.get(name))
        return _ordered(queryset, data.get("sort", ""))


FILTER_KEYS = frozenset({*CaseListFilter.base_filters, "sort"})


def _filters_of(params: QueryDict) -> dict[str, list[str]]:
    """The filters a query string sets, as a saved view stores them (no empty values)."""
    return {
        key: values
        for key in params
        if key in FILTER_KEYS and (values := [v for v in params.getlist(key) if v != ""])
    }


def _errors(form: forms.Form) -> list[tuple[str, str, str]]:
    """(field id, label, message) of each error, for the summary above the list."""
    rows = []
    for name, errors in form.errors.items():
        form_field = form.fields.get(name)
        label = str(form_field.label) if form_field is not None and form_field.label else name
        auto_id = form[name].auto_id if form_field is not None else ""
        rows.extend((auto_id, label, str(message)) for message in errors)
    return rows


# --- Saved views ---------------------------------------------------------------------------
# Reads and writes of the person's saved views; the pages below call them.


def saved_views_for(user) -> QuerySet[SavedView]:
    """The person's own views and those shared with one of their areas."""
    shared = Q(shared_with_area_id__in=roles_of(user).staff_area_ids)
    return (
        SavedView.objects.filter(Q(owner_id=user.pk) | shared)
        .select_related("owner", "shared_with_area")
        .order_by("name", "id")
    )


@dataclass(frozen=True)
class SharedView:
    """A colleague's view shared with one of the person's areas, as the list offers it."""

    pk: int
    name: str
    area_id: int
    owner: str


def views_of(user) -> tuple[list[SavedView], list[SharedView]]:
    """The person's own views (each listed with its actions), and their colleagues' views shared
    with their areas (offered in one select: a supervisor of every area sees hundreds)."""
    own = list(
        SavedView.objects.filter(owner_id=user.pk)
        .select_related("shared_with_area")
        .order_by("name", "id")
    )
    shared = [
        SharedView(pk, name, area_id, _name(username, first, last))
        for pk, name, area_id, username, first, last in SavedView.objects.filter(
            shared_with_area_id__in=roles_of(user).staff_area_ids
        )
        .exclude(owner_id=user.pk)
        .order_by("name", "id")
        .values_list(
            "pk",
            "name",
            "shared_with_area_id",
            "owner__username",
            "owner__first_name",
            "owner__last_name",
        )
    ]
    return own, shared


def _view_for(user, view_id: int | None, own: list[SavedView]) -> SavedView | None:
    """The view `view_id` if the person may open it: theirs (already read), or shared with them."""
    if view_id is None:
        return None
    for view in own:
        if view.pk == view_id:
            return view
    return saved_views_for(user).filter(pk=view_id).first()


def default_view_id(user) -> int | None:
    return (
        UserProfile.objects.filter(user_id=user.pk)
        .values_list("default_view_id", flat=True)
        .first()
    )


def default_view_set(*, user, view: SavedView | None) -> None:
    """The view `/work/cases/` opens for the person (None: every case)."""
    if UserProfile.objects.filter(user_id=user.pk).update(default_view=view):
        return
    try:
        with transaction.atomic():
            UserProfile.objects.create(user=user, default_view=view)
    except IntegrityError:  # created meanwhile by a first save of their preferences
        UserProfile.objects.filter(user_id=user.pk).update(default_view=view)


class SaveViewForm(WorkspaceForm):
    name = forms.CharField(
        label=gettext_lazy("Name of the view"),
        max_length=SavedView._meta.get_field("name").max_length,
    )
    shared_with_area = forms.ChoiceField(
        label=gettext_lazy("Who sees it"),
        required=False,
        help_text=gettext_lazy("Shared with an area: every consultant and supervisor of it."),
    )
    filters = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, owner, areas, **kwargs):
        kwargs.setdefault("auto_id", "view_%s")
        super().__init__(*args, **kwargs)
        self.owner = owner
        allowed = roles_of(owner).staff_area_ids
        self.fields["shared_with_area"].choices = [
            ("", _("Only me")),
            *(
                (str(pk), _("Shared with %(area)s") % {"area": name})
                for pk, _code, name in areas
                if pk in allowed
            ),
        ]

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if SavedView.objects.filter(owner_id=self.owner.pk, name=name).exists():
            raise forms.ValidationError(
                _("You already have a view named “%(name)s”: choose another name.") % {"name": name}
            )
        return name

    def save(self, filters: dict[str, list[str]]) -> SavedView:
        area = self.cleaned_data["shared_with_area"]
        return SavedView.objects.create(
            owner=self.owner,
            name=self.cleaned_data["name"],
            filters=filters,
            shared_with_area_id=int(area) if area else None,
        )


def _valid_part(view: SavedView, request) -> tuple[QueryDict, list[str]]:
    """A saved view's filters that still apply, and words for those that no longer do (an area
    deleted, a status that no longer exists, a consultant gone)."""
    params = QueryDict(mutable=True)
    dropped = []
    for key, values in (view.filters or {}).items():
        values = values if isinstance(values, list) else [values]
        if key not in FILTER_KEYS:
            dropped.append(str(key))
            continue
        params.setlist(key, [str(value) for value in values])
    form = CaseListFilter(params, Case.objects.none(), request=request).form
    if not form.is_valid():
        for name in form.errors:
            form_field = form.fields.get(name)
            if form_field is None:
                continue
            if isinstance(form_field, forms.MultipleChoiceField):
                known = {str(code) for code, _label in form_field.choices}
                kept = [value for value in params.getlist(name) if value in known]
                lost = [value for value in params.getlist(name) if value not in known]
                params.setlist(name, kept)
            else:
                lost = params.getlist(name)
                params.pop(name, None)
            label = form_field.label or name
            dropped.append(f"{label}: {', '.join(lost)}" if lost else str(label))
    return params, dropped


# --- The list ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseRow:
    case: Case
    sla: SlaSummary
    cooperative_url: str
    url: str


@dataclass
class Listing:
    """What the list shows: the filters in force (those of the URL, or of the saved view it
    opens) and the person's saved views."""

    params: QueryDict
    filterset: CaseListFilter
    view: SavedView | None
    views: list[SavedView]  # the person's own
    default_view_id: int | None
    shared_views: list[SharedView]

    @property
    def view_count(self) -> int:
        return len(self.views) + len(self.shared_views)

    @property
    def shared_default(self) -> SharedView | None:
        """The person's default view when it is a colleague's."""
        return next((v for v in self.shared_views if v.pk == self.default_view_id), None)


def _query(params: QueryDict, *, to: str = "work:cases", **changes) -> str:
    """`/work/cases/?…` (or the page `to` names) with some parameters changed (None removes
    one); never without a parameter, which would open the default view."""
    query = params.copy()
    for key, value in changes.items():
        query.pop(key, None)
        if value is not None:
            query[key] = value
    return f"{reverse(to)}?{query.urlencode() if query else 'all=1'}"


def _listing(request, *, export: bool = False) -> Listing:
    user = request.user
    views, shared = views_of(user)
    default_id = default_view_id(user)
    get = request.GET
    view = None
    asked = set(get) - {"format"}
    if not asked or (asked <= {"view", "page"} and "view" in asked):
        # The list alone opens the person's default view; `?view=` opens one of theirs.
        wanted = id_in(get["view"]) if "view" in get else default_id
        view = _view_for(user, wanted, views)
        params = QueryDict(mutable=True)
        if view is not None:
            params, dropped = _valid_part(view, request)
            params["view"] = str(view.pk)
            if dropped and "page" not in get:
                messages.warning(
                    request,
                    _(
                        "Some filters of the view “%(name)s” no longer apply and were left "
                        "out: %(filters)s."
                    )
                    % {"name": view.name, "filters": "; ".join(dropped)},
                )
        elif "view" in get:
            messages.warning(
                request, _("This saved view no longer exists, or is not shared with you.")
            )
            params["all"] = "1"
        if "page" in get:
            params["page"] = get["page"]
    else:
        params = get.copy()
        params.pop("format", None)
        view = _view_for(user, id_in(get.get("view", "")), views)
    filterset = CaseListFilter(
        QueryDict(params.urlencode()),
        staff_case_rows(user, export=export),
        request=request,
        export=export,
    )
    return Listing(params, filterset, view, views, default_id, shared)


def _columns(params: QueryDict, sort: str) -> list[dict]:
    current = sort or DEFAULT_SORT
    columns = []
    for column in COLUMNS:
        active = current.removeprefix("-") == column.key
        descending = current.startswith("-")
        if active:
            aria_sort = "descending" if descending else "ascending"
            next_sort = column.key if descending else f"-{column.key}"
        else:
            aria_sort = ""
            next_sort = f"-{column.key}" if column.first == "desc" else column.key
        columns.append(
            {
                "key": column.key,
                "label": column.label,
                "aria_sort": aria_sort,
                "url": _query(params, sort=next_sort, page=None),
            }
        )
    return columns


def can_act_in_bulk(roles: Roles) -> bool:
    """Bulk assignment and change of priority are a supervisor's moves."""
    return roles.supervises_all or bool(roles.supervised_area_ids)


def _render(request, listing: Listing, *, save_form=None, status: int = 200) -> HttpResponse:
    filterset = listing.filterset
    params = listing.params
    valid = filterset.is_valid()
    roles = roles_of(request.user)
    page = None
    rows = []
    if valid:
        page = Paginator(filterset.qs, PAGE_SIZE).get_page(params.get("page"))
        now = timezone.now()
        # A row's link to its cooperative's cases differs from the others' only by the id: the
        # rest of the query string is written once (50 copies and encodings a page otherwise).
        others = params.copy()
        for key in ("cooperative", "page", "view"):
            others.pop(key, None)
        cooperative_url = (
            f"{reverse('work:cases')}?{others.urlencode()}&"
            if others
            else (f"{reverse('work:cases')}?")
        )
        rows = [
            CaseRow(
                case=case,
                sla=sla_summary(case, now=now),
                cooperative_url=f"{cooperative_url}cooperative={case.cooperative_id}",
                url=reverse("work:case", args=[case.pk]),
            )
            for case in page.object_list
        ]
    else:
        status = 400
    sort = filterset.form.cleaned_data.get("sort", "") if valid else params.get("sort", "")
    filters = _filters_of(params)
    if save_form is None:
        save_form = SaveViewForm(
            owner=request.user,
            areas=filterset.areas,
            initial={"filters": _encode(filters)},
        )
    bulk = can_act_in_bulk(roles)
    context = {
        "section": "cases",
        "listing": listing,
        "form": filterset.form,
        "errors": [] if valid else _errors(filterset.form),
        "page": page,
        "rows": rows,
        "columns": _columns(params, sort if valid else ""),
        "sort": sort,
        "filtered": bool(filters),
        "csv_url": _query(params, to="work:cases_csv", page=None),
        "all_url": f"{reverse('work:cases')}?all=1",
        "previous_url": _query(params, page=str(page.previous_page_number()))
        if page is not None and page.has_previous()
        else "",
        "next_url": _query(params, page=str(page.next_page_number()))
        if page is not None and page.has_next()
        else "",
        "save_form": save_form,
        "shared_form": SharedViewForm(
            shared=listing.shared_views,
            area_names={pk: name for pk, _code, name in filterset.areas},
            current=listing.view.pk if listing.view is not None else None,
        )
        if listing.shared_views
        else None,
        "bulk_form": BulkForm(consultants=bulk_consultants(roles)) if bulk else None,
        "bulk_limit": BULK_LIMIT,
    }
    return render(request, "workspace/cases.html", context, status=status)


def _encode(filters: dict[str, list[str]]) -> str:
    query = QueryDict(mutable=True)
    for key, values in filters.items():
        query.setlist(key, values)
    return query.urlencode()


@staff_required
@require_GET
def case_list(request, export: bool = False):
    """The list; `export.csv` (or `?format=csv`) is the CSV of the same filtered rows."""
    export = export or request.GET.get("format") == "csv"
    listing = _listing(request, export=export)
    if export and listing.filterset.is_valid():
        stamp = timezone.localdate().isoformat()
        return csvexport.streaming_csv(
            _csv_rows(listing.filterset.qs), filename=f"cases-{stamp}.csv"
        )
    return _render(request, listing)


# --- CSV -----------------------------------------------------------------------------------


def _person(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


CSV_COLUMNS = (
    (gettext_lazy("Reference"), lambda case, sla: case.reference),
    (gettext_lazy("Opened at"), lambda case, sla: case.created_at),
    (gettext_lazy("Resolved at"), lambda case, sla: case.resolved_at),
    (gettext_lazy("Closed at"), lambda case, sla: case.closed_at),
    (gettext_lazy("Cooperative"), lambda case, sla: case.cooperative.name),
    (gettext_lazy("Tax code"), lambda case, sla: case.cooperative.tax_code),
    (gettext_lazy("Area"), lambda case, sla: case.area.name),
    (gettext_lazy("Status"), lambda case, sla: case.get_status_display()),
    (gettext_lazy("Priority"), lambda case, sla: case.get_priority_display()),
    (gettext_lazy("Channel"), lambda case, sla: case.get_channel_display()),
    (gettext_lazy("Assignee"), lambda case, sla: _person(case.assignee)),
    (gettext_lazy("Outcome"), lambda case, sla: case.outcome.label if case.outcome else ""),
    (gettext_lazy("First response due at"), lambda case, sla: case.first_response_due_at),
    (gettext_lazy("First response at"), lambda case, sla: case.first_response_at),
    (gettext_lazy("Resolution due at"), lambda case, sla: case.resolution_due_at),
    (gettext_lazy("SLA"), lambda case, sla: sla.state_label),
    (gettext_lazy("Minutes spent"), lambda case, sla: case.minutes_spent),
    (gettext_lazy("Rating"), lambda case, sla: _rating(case)),
)


def _rating(case: Case) -> int | None:
    try:
        return case.rating.score
    except Case.rating.RelatedObjectDoesNotExist:
        return None


def _csv_rows(cases: QuerySet[Case]) -> Iterator[list]:
    """The header, then one row per case, read from the database in chunks as they are sent."""
    yield [label for label, _value in CSV_COLUMNS]
    now = timezone.now()
    for case in cases.iterator(chunk_size=1000):
        sla = sla_summary(case, now=now)
        yield [value(case, sla) for _label, value in CSV_COLUMNS]


# --- Saved views: pages --------------------------------------------------------------------


class SharedViewForm(WorkspaceForm):
    """Open a colleague's view shared with one's areas (a GET of the list with `?view=`)."""

    view = forms.ChoiceField(label=gettext_lazy("Shared with your areas"), widget=LongSelect)

    def __init__(self, *, shared: list[SharedView], area_names: dict[int, str], current=None):
        super().__init__(initial={"view": current}, auto_id="shared_%s")
        self.fields["view"].choices = [
            (
                str(view.pk),
                _("%(name)s (%(area)s, by %(owner)s)")
                % {
                    "name": view.name,
                    "area": area_names.get(view.area_id, ""),
                    "owner": view.owner,
                },
            )
            for view in shared
        ]


def _own_default_shared(user):
    own, shared = views_of(user)
    return own, default_view_id(user), shared


@staff_required
@require_POST
def view_save(request):
    """Save the list's current filters under a name, for oneself or for one of one's areas."""
    params = QueryDict(request.POST.get("filters", ""), mutable=True)
    listing = Listing(
        params,
        CaseListFilter(
            QueryDict(params.urlencode()), staff_case_rows(request.user), request=request
        ),
        None,
        *_own_default_shared(request.user),
    )
    form = SaveViewForm(request.POST, owner=request.user, areas=listing.filterset.areas)
    if form.is_valid() and not listing.filterset.is_valid():
        form.add_error(None, _("Correct the filters before saving them as a view."))
    if not form.is_valid():
        return _render(request, listing, save_form=form, status=400)
    try:
        with transaction.atomic():
            view = form.save(_filters_of(params))
    except IntegrityError:  # the same name saved a moment ago, in another tab
        form.add_error("name", _("You already have a view with this name: choose another name."))
        return _render(request, listing, save_form=form, status=400)
    messages.success(request, _("The view “%(name)s” is saved.") % {"name": view.name})
    return redirect(f"{reverse('work:cases')}?view={view.pk}")


@staff_required
@require_POST
def view_delete(request, view_id):
    """Delete one of one's own views (a colleague's shared view is theirs to delete)."""
    view = get_object_or_404(SavedView, pk=view_id, owner_id=request.user.pk)
    name = view.name
    view.delete()
    messages.success(request, _("The view “%(name)s” is deleted.") % {"name": name})
    return redirect(f"{reverse('work:cases')}?all=1")


@staff_required
@require_POST
def view_default(request):
    """Make one of the views one sees the list's default (an empty `view`: every case)."""
    wanted = id_in(request.POST.get("view", ""))
    view = None
    if wanted is not None:
        view = get_object_or_404(saved_views_for(request.user), pk=wanted)
    default_view_set(user=request.user, view=view)
    if view is None:
        messages.success(request, _("The case list now opens with every case."))
    else:
        messages.success(
            request, _("The case list now opens with the view “%(name)s”.") % {"name": view.name}
        )
    return redirect(_back(request, reverse("work:cases")))


# --- Bulk actions --------------------------------------------------------------------------


def bulk_consultants(roles: Roles) -> list[tuple[str, str]]:
    """Who a supervisor may assign to: the active consultants of the areas they supervise."""
    consultants = Consultant.objects.filter(is_active=True, user__is_active=True)
    if not roles.supervises_all:
        consultants = consultants.filter(areas__in=roles.supervised_area_ids)
    rows = (
        consultants.order_by("user__last_name", "user__first_name", "user__username")
        .values_list(
            "user_id", "user__username", "user__first_name", "user__last_name", "office__code"
        )
        .distinct()
    )
    return [
        (str(user_id), f"{_name(username, first, last)} ({office})")
        for user_id, username, first, last, office in rows
    ]


class BulkForm(WorkspaceForm):
    class Action:
        ASSIGN = "assign"
        PRIORITY = "priority"

    action = forms.ChoiceField(
        choices=[
            (Action.ASSIGN, gettext_lazy("Assign")),
            (Action.PRIORITY, gettext_lazy("Change the priority")),
        ]
    )
    consultant = forms.ChoiceField(
        label=gettext_lazy("Assign to"), required=False, widget=LongSelect
    )
    priority = forms.ChoiceField(
        label=gettext_lazy("New priority"),
        required=False,
        choices=[("", "—"), *Priority.choices],
    )

    def __init__(self, *args, consultants, **kwargs):
        kwargs.setdefault("auto_id", "bulk_%s")
        super().__init__(*args, **kwargs)
        self.fields["consultant"].choices = [("", "—"), *consultants]

    def clean(self):
        data = super().clean()
        ids = []
        for value in self.data.getlist("case") if self.data else []:
            case_id = id_in(value)
            if case_id is None:
                raise forms.ValidationError(_("“%(value)s” is not a case.") % {"value": value})
            if case_id not in ids:
                ids.append(case_id)
        if not ids:
            raise forms.ValidationError(_("Select at least one case."))
        if len(ids) > BULK_LIMIT:
            raise forms.ValidationError(
                _("At most %(limit)d cases at a time; %(n)d were selected.")
                % {"limit": BULK_LIMIT, "n": len(ids)}
            )
        data["cases"] = ids
        action = data.get("action")
        if action == self.Action.ASSIGN and not data.get("consultant"):
            self.add_error("consultant", _("Choose the consultant to assign the cases to."))
        if action == self.Action.PRIORITY and not data.get("priority"):
            self.add_error("priority", _("Choose the new priority."))
        return data


@dataclass
class BulkResult:
    done: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)
    already: int = 0
    missing: int = 0


def bulk_apply(*, user, case_ids: list[int], perform, already: Q) -> BulkResult:
    """`perform(case_id)` on each case `user` sees as staff, each in its own transaction: a
    refusal (a domain error) is kept with its reason and the others go on. Cases that are
    `already` as asked are left alone (no second assignment mail, no empty event); ids of cases
    the user does not see are counted, never named."""
    visible = {
        pk: (reference, same)
        for pk, reference, same in staff_cases_of(user)
        .filter(pk__in=case_ids)
        .annotate(same=ExpressionWrapper(already, output_field=BooleanField()))
        .values_list("pk", "reference", "same")
    }
    result = BulkResult()
    for case_id in case_ids:
        if case_id not in visible:
            result.missing += 1
            continue
        reference, same = visible[case_id]
        if same:
            result.already += 1
            continue
        try:
            with transaction.atomic():
                perform(case_id)
        except CaseError as refused:
            result.refused.append((reference, str(refused.message)))
        else:
            result.done += 1
    return result


def bulk_summary(result: BulkResult, action: str) -> str:
    """The message after a bulk action: "7 cases assigned; 2 refused: FIS-2025-0001: …"."""
    if action == BulkForm.Action.ASSIGN:
        done = ngettext("%(n)d case assigned", "%(n)d cases assigned", result.done)
    else:
        done = ngettext(
            "priority changed on %(n)d case", "priority changed on %(n)d cases", result.done
        )
    parts = [done % {"n": result.done}]
    if result.refused:
        reasons = "; ".join(f"{reference}: {reason}" for reference, reason in result.refused)
        refused = ngettext("%(n)d refused", "%(n)d refused", len(result.refused)) % {
            "n": len(result.refused)
        }
        parts.append(f"{refused}: {reasons}")
    if result.already:
        if action == BulkForm.Action.ASSIGN:
            already = ngettext(
                "%(n)d already assigned to them", "%(n)d already assigned to them", result.already
            )
        else:
            already = ngettext(
                "%(n)d already had this priority", "%(n)d already had this priority", result.already
            )
        parts.append(already % {"n": result.already})
    if result.missing:
        parts.append(
            ngettext(
                "%(n)d not found among the cases you see",
                "%(n)d not found among the cases you see",
                result.missing,
            )
            % {"n": result.missing}
        )
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


@staff_required
@require_POST
def bulk(request):
    """Assign, or change the priority of, the selected cases: each through the same guarded
    process call as on its page, so each is refused or done for the same reasons."""
    roles = roles_of(request.user)
    if not can_act_in_bulk(roles):
        raise PermissionDenied
    back = _back(request, reverse("work:cases"))
    form = BulkForm(request.POST, consultants=bulk_consultants(roles))
    if not form.is_valid():
        messages.error(request, " ".join(message for _id, _label, message in _errors(form)))
        return redirect(back)
    data = form.cleaned_data
    actor = request.user
    if data["action"] == BulkForm.Action.ASSIGN:
        consultant = get_user_model().objects.filter(pk=int(data["consultant"])).first()
        if consultant is None:  # removed since the page was drawn
            messages.error(request, _("This consultant no longer exists; nothing was changed."))
            return redirect(back)
        already = Q(assignee_id=consultant.pk)

        def perform(case_id):
            process.case_assign(case=case_id, actor=actor, consultant=consultant)

    else:
        priority = data["priority"]
        already = Q(priority=priority)

        def perform(case_id):
            process.case_change_priority(case=case_id, actor=actor, priority=priority)

    result = bulk_apply(user=actor, case_ids=data["cases"], perform=perform, already=already)
    level = messages.WARNING if result.refused or result.missing else messages.SUCCESS
    messages.add_message(request, level, bulk_summary(result, data["action"]))
    return redirect(back)


urlpatterns = [
    path("cases/", case_list, name="cases"),
    path("cases/export.csv", case_list, {"export": True}, name="cases_csv"),
    path("cases/bulk/", bulk, name="cases_bulk"),
    path("cases/views/", view_save, name="case_view_save"),
    path("cases/views/default/", view_default, name="case_view_default"),
    path("cases/views/<int:view_id>/delete/", view_delete, name="case_view_delete"),
]
