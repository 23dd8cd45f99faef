"""The view viewflow's human nodes point at: a task opens as its page in the workspace.

It only redirects, so the flow can name it without importing the workspace's views (which read
the flow): imports go one way, workspace -> process -> flow.
"""

from django.shortcuts import redirect


def task_page(request, task_pk=None, **kwargs):
    if task_pk is None:
        return redirect("work:inbox")
    return redirect("work:task", task_pk=task_pk)
