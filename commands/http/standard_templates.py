"""Command routes for standard templates."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Response, status
from pydantic import Field, StringConstraints

from commands.context import CommandContext
from commands.http.deps import StandardTemplateServiceDep
from commands.http.edge import (
    ExpectedVersion,
    answer,
    context_for,
)
from commands.http.schemas import CommandAccepted, StrictBody
from commands.http.text import MultilineText, Text, TextRule
from commands.standard_templates import (
    AddClause,
    ChangeClause,
    DraftStandardTemplate,
    RemoveClause,
    TemplateAction,
)
from domain.access import Permission
from domain.standard_template import EDITION_MAX, STANDARD_NAME_MAX, TEXT_MAX, TITLE_MAX

router = APIRouter(prefix="/standard-templates", tags=["standard templates"])

CLAUSE_ID = r"^[A-Za-z0-9][A-Za-z0-9.\-]{0,31}$"
ClauseId = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=CLAUSE_ID), TextRule()
]
"""A clause id as the domain accepts it (its pattern is in the schema)."""


class StandardTemplateCreate(StrictBody):
    """Body of ``POST /standard-templates``."""

    standard_name: Text = Field(
        min_length=1, max_length=STANDARD_NAME_MAX, examples=["ISO 9001"]
    )
    edition: Text = Field(min_length=1, max_length=EDITION_MAX, examples=["2015"])
    title: Text = Field(
        min_length=1, max_length=TITLE_MAX, examples=["Quality management systems"]
    )


class ClauseCreate(StrictBody):
    """Body of ``POST /standard-templates/{id}/clauses``."""

    clause_id: ClauseId = Field(examples=["8.5.1"])
    title: Text = Field(
        min_length=1, max_length=TITLE_MAX, examples=["Control of production"]
    )
    text: MultilineText = Field(min_length=1, max_length=TEXT_MAX)
    parent_id: ClauseId | None = Field(default=None, examples=["8.5"])


class ClauseChange(StrictBody):
    """Body of ``PATCH /standard-templates/{id}/clauses/{clause_id}``."""

    title: Text = Field(min_length=1, max_length=TITLE_MAX, examples=["Production"])
    text: MultilineText = Field(
        min_length=1,
        max_length=TEXT_MAX,
        examples=["Production and service provision under controlled conditions"],
    )


class TemplatePublished(CommandAccepted):
    template_version: int = Field(description="The published version's number")


Manager = Annotated[CommandContext, Depends(context_for(Permission.TEMPLATE_MANAGE))]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CommandAccepted)
def draft_standard_template(
    body: StandardTemplateCreate,
    ctx: Manager,
    svc: StandardTemplateServiceDep,
    response: Response,
) -> CommandAccepted:
    """Start a standard template with an empty draft (version 1)."""
    accepted = svc.draft(
        ctx, DraftStandardTemplate(body.standard_name, body.edition, body.title)
    )
    return answer(accepted, response, location=f"/standard-templates/{accepted.id}")


@router.post(
    "/{template_id}/clauses",
    status_code=status.HTTP_201_CREATED,
    response_model=CommandAccepted,
)
def add_clause(
    template_id: UUID,
    body: ClauseCreate,
    ctx: Manager,
    svc: StandardTemplateServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Add a clause to the open draft."""
    command = AddClause(
        template_id,
        body.clause_id,
        body.title,
        body.text,
        body.parent_id,
        version,
    )
    return answer(svc.add_clause(ctx, command), response)


@router.patch("/{template_id}/clauses/{clause_id}", response_model=CommandAccepted)
def change_clause(
    template_id: UUID,
    clause_id: Text,
    body: ClauseChange,
    ctx: Manager,
    svc: StandardTemplateServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Change a draft clause's title and text."""
    command = ChangeClause(template_id, clause_id, body.title, body.text, version)
    return answer(svc.change_clause(ctx, command), response)


@router.post(
    "/{template_id}/clauses/{clause_id}/remove", response_model=CommandAccepted
)
def remove_clause(
    template_id: UUID,
    clause_id: Text,
    ctx: Manager,
    svc: StandardTemplateServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Remove a draft clause that has no children."""
    command = RemoveClause(template_id, clause_id, version)
    return answer(svc.remove_clause(ctx, command), response)


@router.post("/{template_id}/publish", response_model=TemplatePublished)
def publish(
    template_id: UUID,
    ctx: Manager,
    svc: StandardTemplateServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> TemplatePublished:
    """Publish the open draft as an immutable version."""
    accepted = svc.publish(ctx, TemplateAction(template_id, version))
    base = answer(accepted, response)
    return TemplatePublished(
        **base.model_dump(), template_version=accepted.template_version
    )


@router.post("/{template_id}/new-draft", response_model=CommandAccepted)
def start_new_draft(
    template_id: UUID,
    ctx: Manager,
    svc: StandardTemplateServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Open a new draft copied from the latest published version."""
    command = TemplateAction(template_id, version)
    return answer(svc.start_new_draft(ctx, command), response)


@router.post("/{template_id}/retire", response_model=CommandAccepted)
def retire(
    template_id: UUID,
    ctx: Manager,
    svc: StandardTemplateServiceDep,
    response: Response,
    version: ExpectedVersion,
) -> CommandAccepted:
    """Retire the template: no more drafts; published versions stay readable."""
    command = TemplateAction(template_id, version)
    return answer(svc.retire(ctx, command), response)
