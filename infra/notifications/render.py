"""Filling a notification's templates for one recipient."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template
from markupsafe import Markup

from domain.notifications import NotificationKind

TEMPLATES = Path(__file__).parent / "templates"
LANGUAGES = ("en", "de")
"""Languages with templates; the first is the fallback."""


GRADE_LABELS = {
    "en": {
        "major_nonconformity": "major nonconformity",
        "minor_nonconformity": "minor nonconformity",
        "observation": "observation",
        "opportunity_for_improvement": "opportunity for improvement",
    },
    "de": {
        "major_nonconformity": "Hauptabweichung",
        "minor_nonconformity": "Nebenabweichung",
        "observation": "Beobachtung",
        "opportunity_for_improvement": "Verbesserungspotenzial",
    },
}
"""A finding's grade as the e-mail names it, per language."""


@dataclass(frozen=True)
class RenderedMail:
    """One notification, ready for the outbox."""

    subject: str
    text: str
    html: str


class NotificationTemplates:
    """The repository's templates, loaded once per process.

    Args:
        directory: Where the ``<language>/`` folders are.
    """

    def __init__(self, directory: Path = TEMPLATES) -> None:
        loader = FileSystemLoader(directory)
        self._text = Environment(
            loader=loader,
            undefined=StrictUndefined,
            autoescape=False,  # noqa: S701 - the plain-text part is not HTML
        )
        self._html = Environment(
            loader=loader, undefined=StrictUndefined, autoescape=True
        )

    def render(
        self,
        kind: NotificationKind,
        language: str | None,
        facts: dict[str, Any],
    ) -> RenderedMail:
        """The e-mail of ``kind`` in ``language`` (English if it has none).

        ``facts`` must hold ``link`` (the resource in the web application),
        ``name`` (the recipient's) and ``unsubscribe_url`` (``None`` for a
        kind that cannot be switched off), besides what the kind's message
        uses.
        """
        lang = language if language in LANGUAGES else LANGUAGES[0]
        finding = facts.get("finding")
        if isinstance(finding, dict) and "grade" in finding:
            label = GRADE_LABELS[lang].get(finding["grade"], finding["grade"])
            facts = {**facts, "finding": {**finding, "grade_label": label}}
        messages = f"{lang}/messages.j2"
        text_messages = self._text.get_template(messages)
        subject = _block(text_messages, f"{kind.value}__subject", facts)
        text = _block(text_messages, f"{kind.value}__message", facts)
        html = _block(
            self._html.get_template(messages), f"{kind.value}__message", facts
        )
        text_page = self._text.get_template(f"{lang}/layout.txt.j2")
        html_page = self._html.get_template(f"{lang}/layout.html.j2")
        subject = " ".join(subject.split())
        return RenderedMail(
            subject=subject,
            text=text_page.render(facts, message=text.strip()).strip() + "\n",
            html=html_page.render(
                facts,
                subject=subject,
                message=Markup(html.strip()),  # noqa: S704 - autoescaped above
            ).strip()
            + "\n",
        )


def _block(template: Template, block: str, facts: dict[str, Any]) -> str:
    context = template.new_context(dict(facts))
    return "".join(template.blocks[block](context))
