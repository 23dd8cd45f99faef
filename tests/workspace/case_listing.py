"""Reading the staff case list in tests: its address and the references its rows show."""

import re

URL = "/work/cases/"
REFERENCE = re.compile(r'class="ref" href="/work/cases/\d+/">([^<]+)</a>')


def references(response) -> list[str]:
    """The references of the rows, in the order the page shows them."""
    return REFERENCE.findall(response.content.decode())


def listed(client, params=None, *, status=200) -> list[str]:
    """The references the list shows for these GET parameters (and the expected status)."""
    response = client.get(URL, params or {})
    assert response.status_code == status, response.content.decode()[:2000]
    return references(response)
