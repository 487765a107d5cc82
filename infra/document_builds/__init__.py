"""Document builds: a requested document made from the event store.

What it holds: loading what a ``document.requested`` event names, each
aggregate at the exact version recorded (:mod:`.sources`); the renderer's
views built from those aggregates (:mod:`.report_views`,
:mod:`.certificate_views`); and :class:`DocumentBuilder`, which renders a
document and checks whether a file someone holds is the one issued
(:mod:`.builder`).

Guarantees: a build depends only on the events up to the recorded versions,
the template's layout version and the public base URL printed in
certificates' QR codes; never on the clock or on what happened since. A
:class:`DocumentBuildError` is a lasting failure (rendering the same request
again fails the same way); an unreachable database or file store raises the
adapters' own errors, which are transient.

What it may import: the standard library, :mod:`domain`,
:mod:`infra.documents` and :mod:`infra.errors`. It reads aggregates through
the :class:`~.sources.VersionedStore` port, so it knows no SQL, Kafka,
Redis, settings or web framework.
"""

from infra.document_builds.builder import BuiltDocument, CopyVerdict, DocumentBuilder
from infra.document_builds.certificate_views import verification_url
from infra.document_builds.errors import DocumentBuildError
from infra.document_builds.sources import VersionedStore

__all__ = [
    "BuiltDocument",
    "CopyVerdict",
    "DocumentBuildError",
    "DocumentBuilder",
    "VersionedStore",
    "verification_url",
]
