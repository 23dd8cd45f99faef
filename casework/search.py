"""Finding cases by what they say: the one search of the API, the portal and the staff pages.

On PostgreSQL it is full-text search in Italian over the search documents the triggers of
migration 0018 keep on every case (`sportello_it`: stemmed and accent-blind; quoted phrases, `OR`
and `-word` as `websearch_to_tsquery` reads them), ranked, with a highlighted snippet; a
reference, a cooperative's tax code and a cooperative's name (by trigram) match exactly and rank
first. On SQLite (the embedded default) the documents stay empty and the search is a plain
case-insensitive match of the whole query, unranked and without snippets.

Internal notes and documents' names are in a document of their own (`Case.search_staff`), read
only for the cases whose internal notes the reader may read (`selectors._staff_scope`, the rule
`policy.is_staff_of` states for one case): a member's search can never match a word of them.
"""

from __future__ import annotations

import re

from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
    SearchVector,
    SearchVectorExact,
    TrigramSimilarity,
    TrigramWordSimilarity,
)
from django.core.exceptions import ValidationError
from django.db import connections, transaction
from django.db.models import (
    BooleanField,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models import Case as Choose
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Concat, Greatest
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from .models import Attachment, Case, Cooperative, Message
from .roles import roles_of
from .selectors import _staff_scope
from .validators import is_ascii_number, normalise_tax_code

#: The longest query read (the API answers a longer one with a 400, the pages with a form error).
QUERY_MAX_LENGTH = 200
#: The text search configuration of migration 0018.
CONFIG = "sportello_it"
#: Shorter queries are not compared with cooperatives' names (every name would look alike).
NAME_MIN_LENGTH = 3
#: A search finds at most this many cases: the newest of those that match (by when they were
#: opened), ranked. Ranking costs a read of every case it ranks; a common word matches a tenth
#: of a federation's cases (a million cases: 800 ms to rank them all, against 50 ms). Help
#: desks cap the same way (Zendesk's search returns at most 1,000 results).
RESULTS_MAX = 500
#: At most this many cooperatives found by name or tax code lend their cases to one search.
MATCHED_COOPERATIVES = 20
# What an exact match adds to the rank, so that it comes before any match of words (ts_rank
# with the weights as stored stays at most 1 per document, so 2 for both).
REFERENCE_RANK = 100.0
TAX_CODE_RANK = 50.0
NAME_RANK = 10.0  # plus ten times the name's similarity to the query
# Names are kept when almost as like the query as the likest one: "Cooperativa Alfq" is like
# every "Cooperativa …", and far more like "Cooperativa Alfa".
NAME_MARGIN = 0.05
REFERENCE_SHAPE = re.compile(r"[A-Z]{2,5}-\d{4}-\d{1,9}")

# ts_headline marks the words with these; Python escapes the snippet, then makes them <mark>.
# Private-use characters, which no text of ours means to contain.
MARK_START = "\ue000"
MARK_STOP = "\ue001"
_MARKED = re.compile(f"{MARK_START}(.*?){MARK_STOP}", re.DOTALL)
HEADLINE_OPTIONS = {
    "start_sel": MARK_START,
    "stop_sel": MARK_STOP,
    # One passage around the words (the fragment mode drops the words beside a short match).
    "max_words": 30,
    "min_words": 12,
}


def validate_query(value: str) -> None:
    """A search is at most `QUERY_MAX_LENGTH` characters: for forms, filters and serializers."""
    if len(value or "") > QUERY_MAX_LENGTH:
        raise ValidationError(
            _("A search can be at most %(limit)d characters long; this one has %(length)d."),
            code="search_too_long",
            params={"limit": QUERY_MAX_LENGTH, "length": len(value)},
        )


def search_cases(
    cases: QuerySet[Case], *, query: str, user, staff: bool, highlight: bool = True
) -> QuerySet[Case]:
    """The cases of `cases` (already what `user` may see) that match `query`, best first.

    Narrows, never widens: the result is `cases` filtered. An empty or blank query returns
    `cases` as it is (the caller shows the whole list); a query that reads as no words (only
    stop words or punctuation) finds nothing; past `QUERY_MAX_LENGTH` characters the rest is
    ignored (callers refuse it first, with `validate_query`). On PostgreSQL at most
    `RESULTS_MAX` cases come back: the newest of those that match, ranked among themselves.

    `staff`: the list is a staff one, so internal notes and documents' names are searched too,
    but only in the cases whose internal notes `user` may read (supervisors of all areas: every
    case; others: those of their areas, and a consultant's own). Pass False for pages of the
    cooperatives, whoever reads them.

    The cases come annotated with `search_rank` (a float, higher first: an exact reference, then
    a tax code, then a cooperative's name, then the words' rank) and `highlight` (HTML-safe text
    with the matched words in `<mark>`, or None; `highlight=False` leaves it None for lists that
    show no snippet, such as a CSV), and ordered by `-search_rank`, newest first among equals.
    On PostgreSQL this runs two queries at once (the cooperatives that match by name or tax
    code, so that the case query can use the indexes; the ids of the cases to rank). On
    SQLite: a plain case-insensitive match of the query in the reference, subject, description
    and public messages (for staff of the case, internal notes and documents' names too),
    `search_rank` 0, `highlight` None, the caller's order kept.
    """
    text = " ".join((query or "").replace("\x00", " ")[:QUERY_MAX_LENGTH].split())
    if not text:
        return cases
    scope = _internal_scope(user, staff=staff)
    if connections[cases.db].vendor != "postgresql":
        return _plain_match(cases, text, scope)
    return _full_text(cases, text, scope, highlight=highlight)


def case_with_reference(cases: QuerySet[Case], query: str) -> Case | None:
    """The case of `cases` whose reference the query is, in any case of letters; else None
    (also when it exists outside `cases`: the caller answers as for any other query)."""
    reference = " ".join((query or "").split()).upper()
    if not REFERENCE_SHAPE.fullmatch(reference):
        return None
    return cases.filter(reference=reference).first()


def marked_html(snippet: str | None) -> SafeString | None:
    """A ts_headline snippet as HTML: its text escaped, its marked words in `<mark>`."""
    if snippet is None:
        return None
    escaped = str(escape(" ".join(snippet.split())))
    html = _MARKED.sub(r"<mark>\1</mark>", escaped)
    return mark_safe(html.replace(MARK_START, "").replace(MARK_STOP, ""))


class _HighlightField(TextField):
    """The snippet's column: read back as HTML-safe text (`marked_html`)."""

    def from_db_value(self, value, expression, connection):
        return marked_html(value)


# --- Who reads internal words ----------------------------------------------------------------

_EVERY_CASE = "every case"


def _internal_scope(user, *, staff: bool) -> Q | str | None:
    """The cases whose internal words `user` may search: a condition, `_EVERY_CASE`, or None."""
    if not staff:
        return None
    roles = roles_of(user)
    if not roles.is_staff_role:
        return None
    if roles.supervises_all:
        return _EVERY_CASE
    return _staff_scope(roles)


def _where_internal(scope, then, default):
    """`then` for the cases whose internal words the reader may read, `default` elsewhere."""
    if scope is None:
        return default
    if scope is _EVERY_CASE:
        return then
    return Choose(When(scope, then=then), default=default, output_field=then.output_field)


# --- PostgreSQL ------------------------------------------------------------------------------


def _full_text(cases: QuerySet[Case], text: str, scope, *, highlight: bool) -> QuerySet[Case]:
    words = SearchQuery(text, search_type="websearch", config=CONFIG)
    match = Q(search_public=words)
    if scope is _EVERY_CASE:
        match |= Q(search_staff=words)
    elif scope is not None:
        match |= Q(search_staff=words) & scope

    exact = []  # (condition, rank)
    reference = text.upper()
    if REFERENCE_SHAPE.fullmatch(reference):
        exact.append((Q(reference=reference), REFERENCE_RANK))
    exact.extend(
        (Q(cooperative_id=pk), rank) for pk, rank in _matching_cooperatives(text, words).items()
    )
    for condition, _rank in exact:
        match |= condition
    # The cases ranked: the newest RESULTS_MAX that match, so that a word in a tenth of a
    # million cases costs the ranking of a thousand, not of a hundred thousand. (A reference
    # asked for is among them: as a phrase its words match its own case and hardly another.)
    # Read once here: the page's count and its rows then look them up by key, rather than each
    # finding them again.
    newest = list(cases.filter(match).order_by("-id").values_list("pk", flat=True)[:RESULTS_MAX])

    rank = Coalesce(SearchRank(F("search_public"), words), Value(0.0))
    rank += _where_internal(
        scope, Coalesce(SearchRank(F("search_staff"), words), Value(0.0)), Value(0.0)
    )
    if exact:
        rank += Choose(
            *(When(condition, then=Value(r)) for condition, r in exact),
            default=Value(0.0),
            output_field=FloatField(),
        )
    snippet = _snippet(words, scope) if highlight else Value(None, output_field=TextField())
    return (
        cases.filter(_id_among(newest))
        .annotate(search_rank=rank, highlight=snippet)
        .order_by("-search_rank", "-created_at", "-id")
    )


def _id_among(ids: list[int]) -> RawSQL:
    """`id = ANY(ids)`, the ids passed as one array: an `IN` of a thousand values costs Django
    and psycopg 13 ms a query to write out, one parameter each."""
    return RawSQL(f'"{Case._meta.db_table}"."id" = ANY(%s)', (ids,), output_field=BooleanField())


def _matching_cooperatives(text: str, words: SearchQuery) -> dict[int, float]:
    """Cooperatives the query names, by tax code (exact) or name (trigram): id -> rank added.

    Only when the query has words at all, so that a query of stop words finds nothing here
    either.
    """
    condition = Q()
    # How like the query a name is: the whole name, or its likest stretch of words ("Alfq" is
    # like "Cooperativa Alfa"); both served by the cooperative_name_trgm index.
    likeness = Greatest(TrigramSimilarity("name", text), TrigramWordSimilarity(text, "name"))
    if len(text) >= NAME_MIN_LENGTH:
        condition |= Q(name__trigram_similar=text) | Q(name__trigram_word_similar=text)
    tax_code = normalise_tax_code(text)
    if len(tax_code) == 11 and is_ascii_number(tax_code):
        condition |= Q(tax_code=tax_code)
        # The one cooperative of that tax code comes first (no name is liker than 1).
        likeness = Choose(When(tax_code=tax_code, then=Value(2.0)), default=likeness)
    if not condition:
        return {}
    rows = _through_indexes(
        Cooperative.objects.filter(condition)
        .alias(lexemes=Func(words, function="numnode", output_field=IntegerField()))
        .filter(lexemes__gt=0)
        .annotate(likeness=likeness)
        .order_by("-likeness", "pk")
        .values_list("pk", "likeness")[:MATCHED_COOPERATIVES]
    )
    likest = max((like for _pk, like in rows if like <= 1), default=0.0)
    ranks = {}
    for pk, like in rows:
        if like > 1:
            ranks[pk] = TAX_CODE_RANK
        elif like >= likest - NAME_MARGIN:
            ranks[pk] = NAME_RANK * (1 + like)
    return ranks


def _through_indexes(rows: QuerySet) -> list:
    """The rows of a query on the cooperatives' names, read through their trigram index.

    The planner prices a trigram likeness like any cheap operator, so past about 18
    characters (the index's cost grows with the query's trigrams) it prefers to compute both
    likenesses for every name: 30 to 75 ms for 5,000 cooperatives, against 0.5 to 6 ms through
    the index, which is the faster path whatever the query. The sequential scan is refused for
    this one statement (`SET LOCAL`, put back before the transaction goes on).
    """
    with transaction.atomic(using=rows.db), connections[rows.db].cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        found = list(rows)
        cursor.execute("SET LOCAL enable_seqscan TO DEFAULT")
    return found


def _headline(expression, words: SearchQuery) -> SearchHeadline:
    return SearchHeadline(expression, words, config=CONFIG, **HEADLINE_OPTIONS)


def _message_snippet(words: SearchQuery, *, internal_too: bool) -> Subquery:
    """The snippet of the case's best matching message (public ones only, unless told)."""
    messages = Message.objects.filter(case_id=OuterRef("pk"))
    if not internal_too:
        messages = messages.filter(internal=False)
    document = SearchVector("body", config=CONFIG)
    best = (
        messages.annotate(document=document)
        .filter(document=words)
        .order_by(SearchRank(document, words).desc(), "id")
        .values_list(_headline("body", words))[:1]
    )
    return Subquery(best, output_field=TextField())


def _snippet(words: SearchQuery, scope) -> Choose:
    """The subject and description with the words marked; where only a message matches, that
    message's (an internal note's only for its staff). Computed for the rows returned only."""
    own_text = Concat("subject", Value("\n"), "description", output_field=TextField())
    own = _headline(own_text, words)
    in_messages = _where_internal(
        scope,
        _message_snippet(words, internal_too=True),
        _message_snippet(words, internal_too=False),
    )
    return Choose(
        When(SearchVectorExact(SearchVector(own_text, config=CONFIG), words), then=own),
        default=Coalesce(in_messages, own),
        output_field=_HighlightField(),
    )


# --- SQLite ----------------------------------------------------------------------------------


def _plain_stem(word: str) -> str:
    """A word without its final vowels, so that singular and plural meet ("dichiarazioni" and
    "Dichiarazione" share "dichiarazion"): the embedded default's whole Italian stemming."""
    stem = word.rstrip("aeiouàèéìòù")
    return stem if len(stem) >= 3 else word


def _plain_match(cases: QuerySet[Case], text: str, scope) -> QuerySet[Case]:
    """The embedded default's search: each word (its stem) found somewhere in the texts, or the
    query as typed (a reference, a phrase)."""

    def found(fragment: str) -> Q:
        def in_messages(internal: bool) -> Exists:
            return Exists(
                Message.objects.filter(
                    case_id=OuterRef("pk"), internal=internal, body__icontains=fragment
                )
            )

        anywhere = (
            Q(reference__icontains=fragment)
            | Q(subject__icontains=fragment)
            | Q(description__icontains=fragment)
            | in_messages(False)
        )
        if scope is not None:
            internal = in_messages(True) | Exists(
                Attachment.objects.filter(case_id=OuterRef("pk"), original_name__icontains=fragment)
            )
            anywhere |= internal if scope is _EVERY_CASE else internal & scope
        return anywhere

    words = [word for word in text.replace('"', " ").split() if not word.startswith("-")]
    match = found(text)
    if len(words) > 1 or (words and _plain_stem(words[0]) != text):
        each = Q()
        for word in words[:8]:
            each &= found(_plain_stem(word.casefold()))
        match |= each
    return cases.filter(match).annotate(
        search_rank=Value(0.0, output_field=FloatField()),
        highlight=Value(None, output_field=TextField()),
    )
