"""The search box in the header of every staff page: a reference opens its case, any other
query goes to the staff case list searched for it."""

from __future__ import annotations

from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from casework.search import case_with_reference
from casework.selectors import cases_visible_to

from .views import staff_required


@staff_required
@require_GET
def search(request):
    """Straight to the case when the query is the exact reference of one the reader may see;
    otherwise the case list with the query, which searches it (and refuses one too long). A
    reference they may not see goes to the list like any query that finds nothing, so the box
    never tells that a case exists."""
    query = request.GET.get("q", "").strip()
    case = case_with_reference(cases_visible_to(request.user), query)
    if case is not None:
        return redirect("work:case", case_id=case.pk)
    case_list = reverse("work:cases")
    return redirect(f"{case_list}?{urlencode({'q': query})}" if query else case_list)
