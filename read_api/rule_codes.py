"""The business-rule codes each command can answer with, read from the code
that enforces them (``RuleViolationError("audit.…")`` calls in the domain and
the identity commands), so the OpenAPI document cannot drift from it."""

from __future__ import annotations

import importlib
import inspect
import re
from functools import cache

RULE_MODULES: dict[str, tuple[str, ...]] = {
    "/organizations": ("organization",),
    "/standard-templates": ("standard_template",),
    "/document-templates": ("document_template",),
    "/audits/{audit_id}/evidence": ("evidence",),
    "/audits/{audit_id}/documents": ("document", "document_values"),
    "/audits/{audit_id}/findings": ("audit_findings", "audit_state"),
    "/audits": (
        "audit",
        "audit_state",
        "audit_planning",
        "audit_review",
        "audit_findings",
        "audit_prerequisites",
    ),
    "/certificates": ("certificate", "certification"),
    "/tenant/settings": ("tenant_settings", "document_values"),
    "/users": (
        "account",
        "account_erasure",
        "account_values",
        "commands.identity.accounts",
        "commands.identity.account_writer",
    ),
    "/platform/tenants": (
        "tenant",
        "account",
        "account_values",
        "commands.identity.tenants",
        "commands.identity.account_writer",
    ),
    "/api-tokens": ("api_token",),
    "/me": ("account", "commands.identity.mfa"),
    "/auth/invitations": ("account",),
}
"""Path prefix → the modules (``domain.`` unless dotted) whose rules its
commands enforce."""

_RULE = re.compile(r'(?:RuleViolationError|_refuse)\(\s*"([a-z_]+\.[a-z_]+)"')


@cache
def rule_codes(path: str) -> tuple[str, ...]:
    """The business-rule codes a command under ``path`` can answer with."""
    prefixes = [p for p in RULE_MODULES if path.startswith(p)]
    if not prefixes:
        return ()
    modules = RULE_MODULES[max(prefixes, key=len)]
    codes: set[str] = set()
    for name in modules:
        module = name if "." in name else f"domain.{name}"
        source = inspect.getsource(importlib.import_module(module))
        codes.update(_RULE.findall(source))
    return tuple(sorted(codes))
