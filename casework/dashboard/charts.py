"""Charts drawn on the server as inline SVG, each with a title, a description and a data table.

No JavaScript and nothing downloaded: the figure is plain markup the screen reader reads through
its <title>/<desc>, and the same numbers are in a table under it for anyone who prefers one.
The functions return safe HTML; every label is escaped here.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from datetime import date

from django.utils import formats
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

# Colours that keep a contrast of at least 4.5:1 against white, told apart also by the table.
PALETTE = (
    "#0b5cab",
    "#b3261e",
    "#1e7a3a",
    "#8a5a00",
    "#6b3fa0",
    "#00727a",
    "#4b5563",
    "#a3367a",
    "#c2410c",
    "#4d7c0f",
    "#1e3a8a",
    "#be185d",
)
# A legend entry longer than this is cut with an ellipsis (its full text is in the table).
LEGEND_CHARS = 58
# A narrow drawing scales up well on a wide screen and stays legible on a phone.
WIDTH = 480
FONT = 14


def _num(value) -> str:
    return "—" if value is None else str(formats.localize(value, use_l10n=True))


def _label(value) -> str:
    if isinstance(value, date):
        return str(formats.date_format(value, "MONTH_DAY_FORMAT"))
    return str(value)


def _scale(value: float) -> tuple[float, float]:
    """A round axis top and tick step for values up to `value`: steps of 1, 2 or 5 × 10^n, at
    most five of them, so that counts get whole-number ticks."""
    if value <= 0:
        return 1, 1
    raw = value / 5
    exponent = math.floor(math.log10(raw)) if raw >= 1 else 0
    for multiplier in (1, 2, 5, 10):
        step = multiplier * 10**exponent
        if step >= raw:
            break
    return step * math.ceil(value / step), step


def _nice_max(value: float) -> float:
    return _scale(value)[0]


def _tick_label(value) -> str:
    if isinstance(value, date):
        return str(formats.date_format(value, pgettext("short day on a chart axis", "j M")))
    return _label(value)


def _ids() -> tuple[str, str]:
    token = uuid.uuid4().hex[:8]
    return f"chart-{token}-title", f"chart-{token}-desc"


def _table(title: str, label_header: str, headers: Sequence[str], rows: Sequence, unit: str) -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    body = "".join(
        f'<tr><th scope="row">{escape(_label(label))}</th>'
        + "".join(f"<td>{_num(v)}{escape(unit) if v is not None else ''}</td>" for v in values)
        + "</tr>"
        for label, values in rows
    )
    show = _("Show the data as a table")
    return (
        f'<details class="chart-data"><summary>{escape(show)}</summary>'
        f'<div class="table-wrap"><table><caption>{escape(title)}</caption>'
        f'<thead><tr><th scope="col">{escape(label_header)}</th>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div></details>"
    )


def _figure(svg: str, title: str, table: str) -> SafeString:
    return mark_safe(
        f'<figure class="chart">{svg}<figcaption>{escape(title)}</figcaption>{table}</figure>'
    )


def _svg_open(height: int, title: str, description: str) -> tuple[str, str]:
    title_id, desc_id = _ids()
    opening = (
        f'<svg class="chart-svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" xmlns="http://www.w3.org/2000/svg" '
        f'font-size="{FONT}" preserveAspectRatio="xMinYMin meet">'
        f'<title id="{title_id}">{escape(title)}</title>'
        f'<desc id="{desc_id}">{escape(description)}</desc>'
    )
    return opening, "</svg>"


def _legend(names: Sequence[str], y: int) -> str:
    parts, x = [], 0
    for index, name in enumerate(names):
        colour = PALETTE[index % len(PALETTE)]
        parts.append(
            f'<rect x="{x:.1f}" y="{y - 10}" width="12" height="12" fill="{colour}"></rect>'
            f'<text x="{x + 16:.1f}" y="{y}">{escape(name)}</text>'
        )
        x += 32 + 8.5 * len(str(name))
    return "".join(parts)


def _describe(rows: Sequence, names: Sequence[str], unit: str) -> str:
    parts = []
    for label, values in rows:
        figures = ", ".join(
            f"{name} {_num(value)}{unit if value is not None else ''}"
            for name, value in zip(names, values, strict=False)
        )
        parts.append(f"{_label(label)}: {figures}")
    return "; ".join(parts)


def bar_chart(
    items: Sequence[tuple[object, float | None]],
    *,
    title: str,
    value_name: str,
    label_header: str = "",
    unit: str = "",
    max_value: float | None = None,
) -> SafeString:
    """Horizontal bars, one per item, the label above its bar so long names fit on a phone."""
    if not items:
        return _empty(title)
    top = max_value or _nice_max(max((v or 0) for _label_, v in items))
    row_height, bar_height, label_room = 38, 14, 60
    height = row_height * len(items) + 8
    usable = WIDTH - label_room
    rows = [(label, [value]) for label, value in items]
    opening, closing = _svg_open(height, title, _describe(rows, [value_name], unit))
    parts = [opening]
    for index, (label, value) in enumerate(items):
        y = index * row_height + 4
        width = 0 if not value else max(2, usable * float(value) / top)
        text = f"{_num(value)}{unit if value is not None else ''}"
        parts.append(
            f'<text x="0" y="{y + FONT}" fill="#1d2433">{escape(_label(label))}</text>'
            f'<rect x="0" y="{y + 18}" width="{usable}" height="{bar_height}" '
            f'fill="#eef1f6"></rect>'
            f'<rect x="0" y="{y + 18}" width="{width:.1f}" height="{bar_height}" '
            f'fill="{PALETTE[0]}"><title>{escape(_label(label))}: {escape(text)}</title></rect>'
            f'<text x="{min(width, usable) + 6:.1f}" y="{y + 30}" fill="#1d2433">'
            f"{escape(text)}</text>"
        )
    parts.append(closing)
    table = _table(title, label_header or title, [value_name], rows, unit)
    return _figure("".join(parts), title, table)


def _axis(top: float, step: float, left: int, right: int, y_of) -> str:
    parts = []
    for index in range(int(round(top / step)) + 1):
        value = step * index
        y = y_of(value)
        shown = int(value) if float(value).is_integer() else value
        parts.append(
            f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d6dbe4"></line>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#5a6478">'
            f"{_num(shown)}</text>"
        )
    return "".join(parts)


def _x_labels(labels: Sequence, x_of, y: float, every: int) -> str:
    return "".join(
        f'<text x="{x_of(index):.1f}" y="{y}" text-anchor="middle" fill="#5a6478">'
        f"{escape(_tick_label(label))}</text>"
        for index, label in enumerate(labels)
        if index % every == 0 or index == len(labels) - 1
    )


def line_chart(
    labels: Sequence,
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    title: str,
    label_header: str = "",
    unit: str = "",
) -> SafeString:
    """One line per series over the labels (days), with a legend, axis and a point per value."""
    if not labels:
        return _empty(title)
    left, right, top_pad, bottom = 44, WIDTH - 24, 30, 230
    height = bottom + 28
    top, step = _scale(max((v or 0) for _name, values in series for v in values))
    count = len(labels)

    def x_of(index):
        return left + (right - left) * (index / max(count - 1, 1))

    def y_of(value):
        return bottom - (bottom - top_pad) * (float(value or 0) / top)

    names = [name for name, _values in series]
    rows = [(label, [values[i] for _n, values in series]) for i, label in enumerate(labels)]
    opening, closing = _svg_open(height, title, _describe(rows, names, unit))
    parts = [opening, _legend(names, 14), _axis(top, step, left, right, y_of)]
    for index, (name, values) in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        points = " ".join(f"{x_of(i):.1f},{y_of(v):.1f}" for i, v in enumerate(values))
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" '
            f'stroke-width="2.5"></polyline>'
        )
        for i, value in enumerate(values):
            parts.append(
                f'<circle cx="{x_of(i):.1f}" cy="{y_of(value):.1f}" r="3" fill="{colour}">'
                f"<title>{escape(_label(labels[i]))} · {escape(name)}: {_num(value)}</title>"
                "</circle>"
            )
    parts.append(_x_labels(labels, x_of, bottom + 20, max(1, math.ceil(count / 5))))
    parts.append(closing)
    return _figure("".join(parts), title, _table(title, label_header, names, rows, unit))


def column_chart(
    labels: Sequence,
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    title: str,
    label_header: str = "",
    unit: str = "",
) -> SafeString:
    """Grouped vertical bars: for each label, one bar per series side by side."""
    if not labels:
        return _empty(title)
    left, right, top_pad, bottom = 44, WIDTH - 24, 30, 230
    height = bottom + 28
    top, step = _scale(max((v or 0) for _name, values in series for v in values))
    count, per = len(labels), len(series)
    slot = (right - left) / count
    bar = min(28.0, slot * 0.8 / per)

    def x_of(index):
        return left + slot * index + slot / 2

    def y_of(value):
        return bottom - (bottom - top_pad) * (float(value or 0) / top)

    names = [name for name, _values in series]
    rows = [(label, [values[i] for _n, values in series]) for i, label in enumerate(labels)]
    opening, closing = _svg_open(height, title, _describe(rows, names, unit))
    parts = [opening, _legend(names, 14), _axis(top, step, left, right, y_of)]
    for s_index, (name, values) in enumerate(series):
        colour = PALETTE[s_index % len(PALETTE)]
        for i, value in enumerate(values):
            x = x_of(i) - bar * per / 2 + bar * s_index
            y = y_of(value)
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{bottom - y:.1f}" '
                f'fill="{colour}"><title>{escape(_label(labels[i]))} · {escape(name)}: '
                f"{_num(value)}</title></rect>"
            )
    parts.append(_x_labels(labels, x_of, bottom + 20, max(1, math.ceil(count / 7))))
    parts.append(closing)
    return _figure("".join(parts), title, _table(title, label_header, names, rows, unit))


def stacked_bar_chart(
    rows: Sequence[tuple[object, Sequence[float]]],
    keys: Sequence[str],
    *,
    title: str,
    label_header: str = "",
) -> SafeString:
    """Horizontal bars split into coloured parts (e.g. a cooperative's cases by outcome)."""
    if not rows or not keys:
        return _empty(title)
    keys, rows = _fold_tail(list(keys), rows)
    # One legend entry per line: two columns cut long names ("Calcolo o simulazione fornit").
    legend_height = 20 * len(keys) + 6
    row_height, bar_height = 38, 14
    height = legend_height + row_height * len(rows) + 8
    usable = WIDTH - 60
    top = _nice_max(max(sum(v or 0 for v in values) for _label_, values in rows))
    opening, closing = _svg_open(height, title, _describe(rows, keys, ""))
    parts = [opening]
    for index, key in enumerate(keys):
        y = 14 + index * 20
        colour = PALETTE[index % len(PALETTE)]
        text = str(key)
        if len(text) > LEGEND_CHARS:
            text = text[: LEGEND_CHARS - 1].rstrip() + "…"
        parts.append(
            f'<rect x="0" y="{y - 10}" width="12" height="12" fill="{colour}"></rect>'
            f'<text x="16" y="{y}">{escape(text)}<title>{escape(str(key))}</title></text>'
        )
    for r_index, (label, values) in enumerate(rows):
        y = legend_height + r_index * row_height
        total = sum(v or 0 for v in values)
        parts.append(f'<text x="0" y="{y + FONT}" fill="#1d2433">{escape(_label(label))}</text>')
        x = 0.0
        for k_index, value in enumerate(values):
            if not value:
                continue
            width = usable * float(value) / top
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 18}" width="{width:.1f}" height="{bar_height}" '
                f'fill="{PALETTE[k_index % len(PALETTE)]}"><title>{escape(_label(label))} · '
                f"{escape(keys[k_index])}: {_num(value)}</title></rect>"
            )
            x += width
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 30}" fill="#1d2433">{_num(total)}</text>')
    parts.append(closing)
    return _figure("".join(parts), title, _table(title, label_header, list(keys), rows, ""))


def _fold_tail(keys: list[str], rows: Sequence) -> tuple[list[str], list]:
    """At most as many keys as colours: the smallest beyond that are summed as "Other", so no
    two parts of a bar share a colour."""
    if len(keys) <= len(PALETTE):
        return keys, list(rows)
    totals = [sum(values[i] or 0 for _label_, values in rows) for i in range(len(keys))]
    order = sorted(range(len(keys)), key=lambda i: -totals[i])
    kept = sorted(order[: len(PALETTE) - 1])
    folded = [i for i in range(len(keys)) if i not in kept]
    new_keys = [keys[i] for i in kept] + [_("Other")]
    new_rows = [
        (label, [values[i] for i in kept] + [sum(values[i] or 0 for i in folded)])
        for label, values in rows
    ]
    return new_keys, new_rows


def _empty(title: str) -> str:
    no_data = _("no data yet.")
    return mark_safe(f'<p class="empty">{escape(title)}: {escape(no_data)}</p>')
