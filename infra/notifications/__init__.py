"""Notification e-mails: their templates and how they are written.

What it holds: the Jinja templates of every notification kind in English and
German (``templates/<language>/messages.j2``, a ``<kind>__subject`` and a
``<kind>__message`` block per kind, and the ``layout.txt.j2`` /
``layout.html.j2`` around the message) and
:class:`~infra.notifications.render.NotificationTemplates`, which fills them
for a recipient.

Guarantees: the HTML part is autoescaped, the text part is not escaped but
holds only the facts it is given; a language without templates falls back to
English. The facts a template sees are chosen by the caller
(:mod:`infra.postgres.notifications`) so that a client never reads what it
may not see.

What it may import: the standard library, :mod:`domain` and Jinja. Nothing
of Postgres, Kafka, Redis, FastAPI or the settings.
"""
