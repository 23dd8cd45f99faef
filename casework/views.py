"""Pages shared by every role: the home page that sends each person to their work."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from .models import CaseStatus
from .roles import roles_of
from .selectors import case_list_for


@login_required
def home(request):
    roles = roles_of(request.user)
    cases = case_list_for(request.user).order_by("-created_at", "-id")
    status = request.GET.get("status", "")
    if status in CaseStatus.values:
        cases = cases.filter(status=status)
    page = Paginator(cases, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "casework/home.html",
        {"page": page, "roles": roles, "statuses": CaseStatus.choices, "status": status},
    )
