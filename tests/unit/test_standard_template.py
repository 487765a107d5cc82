"""StandardTemplate aggregate: given events, when a command, then events or an error."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
)

from domain.errors import InvalidValueError, NotFoundError, RuleViolationError
from domain.events import EventMeta
from domain.standard_template import (
    TEXT_MAX,
    TITLE_MAX,
    Clause,
    StandardTemplate,
)
from infra.eventstore.memory import in_memory_env
from infra.eventstore.store import LibraryEventStore

META = EventMeta("tenant-a", "alice", "req-1", "req-1")
JAN_1 = date(2024, 1, 1)
CONTEXT = ("4", None, "Context of the organization", "Understand the context.")
ISSUES = ("4.1", "4", "Understanding the organization", "Determine issues.")
PARTIES = ("4.2", "4", "Interested parties", "Determine interested parties.")


def drafted() -> StandardTemplate:
    template = StandardTemplate.draft(META, "ISO 9001", "2015", "QMS checklist")
    template.collect_events()
    return template


def with_clauses(*clauses: tuple[str, str | None, str, str]) -> StandardTemplate:
    template = drafted()
    for clause_id, parent_id, title, text in clauses:
        template.add_clause(META, clause_id, title, text, parent_id)
    template.collect_events()
    return template


def published_once() -> StandardTemplate:
    template = with_clauses(CONTEXT, ISSUES)
    template.publish(META, JAN_1)
    template.collect_events()
    return template


def refused(rule: str, command, template: StandardTemplate) -> None:
    version = template.version
    with pytest.raises(RuleViolationError) as raised:
        command()
    assert raised.value.rule == rule
    assert template.collect_events() == []
    assert template.version == version


# Drafting


def test_draft_records_the_standard_and_opens_an_empty_draft_of_version_1():
    template = StandardTemplate.draft(META, " ISO  9001 ", "2015", "QMS checklist")

    [event] = template.collect_events()
    assert isinstance(event, StandardTemplate.Drafted)
    assert (event.standard_name, event.edition, event.title, event.meta) == (
        "ISO 9001",
        "2015",
        "QMS checklist",
        META,
    )
    assert template.tenant_id == "tenant-a"
    assert template.draft_version == 1
    assert template.draft_clauses() == ()
    assert template.latest_published_version is None
    assert not template.is_retired


@pytest.mark.parametrize(
    ("standard_name", "edition", "title", "field"),
    [
        (" ", "2015", "QMS", "standard_name"),
        ("ISO 9001", "", "QMS", "edition"),
        ("ISO 9001", "2015", "\n", "title"),
        ("ISO 9001", "2015", "x" * (TITLE_MAX + 1), "title"),
    ],
)
def test_draft_refuses_invalid_values_naming_the_field(
    standard_name, edition, title, field
):
    with pytest.raises(InvalidValueError) as raised:
        StandardTemplate.draft(META, standard_name, edition, title)
    assert raised.value.field == field


# Clauses in the draft


def test_add_clause_records_it_in_the_draft_in_the_order_added():
    template = drafted()
    added = template.add_clause(META, " 4 ", *CONTEXT[2:])
    template.add_clause(META, "4.1", "Understanding the organization", "Det.", "4")

    first, second = template.collect_events()
    assert isinstance(first, StandardTemplate.ClauseAdded)
    assert (first.draft_version, first.clause_id, first.parent_id) == (1, "4", None)
    assert added == "4"
    assert isinstance(second, StandardTemplate.ClauseAdded)
    assert second.parent_id == "4"
    assert template.draft_clauses() == (
        CONTEXT,
        ("4.1", "4", "Understanding the organization", "Det."),
    )
    assert isinstance(template.draft_clauses()[0], Clause)


@pytest.mark.parametrize("clause_id", ["4", "8.5.1", "A.5.23", "ISO-1", "x" * 32])
def test_clause_ids_in_the_standard_numbering_are_accepted(clause_id):
    template = drafted()
    template.add_clause(META, clause_id, "Title", "Text")
    assert template.draft_clauses()[0].clause_id == clause_id


@pytest.mark.parametrize(
    "clause_id", ["", "   ", ".4", "-1", "4 1", "4/1", "4.1\n.2", "x" * 33, "§4"]
)
def test_malformed_clause_ids_are_refused_naming_the_field(clause_id):
    template = drafted()
    with pytest.raises(InvalidValueError) as raised:
        template.add_clause(META, clause_id, "Title", "Text")
    assert raised.value.field == "clause_id"
    assert template.collect_events() == []


def test_a_malformed_parent_id_is_refused_naming_parent_id():
    template = with_clauses(CONTEXT)
    with pytest.raises(InvalidValueError) as raised:
        template.add_clause(META, "4.1", "Title", "Text", parent_id="4 1")
    assert raised.value.field == "parent_id"
    assert template.draft_clauses() == (CONTEXT,)


@pytest.mark.parametrize(
    ("title", "text", "field"),
    [
        (" ", "Text", "title"),
        ("x" * (TITLE_MAX + 1), "Text", "title"),
        ("Title", " \n\t ", "text"),
        ("Title", "x" * (TEXT_MAX + 1), "text"),
    ],
)
def test_add_clause_refuses_blank_or_over_long_title_and_text(title, text, field):
    template = drafted()
    with pytest.raises(InvalidValueError) as raised:
        template.add_clause(META, "4", title, text)
    assert raised.value.field == field
    assert template.draft_clauses() == ()


def test_clause_text_may_use_the_whole_limit_and_keeps_its_line_breaks():
    template = drafted()
    template.add_clause(META, "4", "Title", "x" * TEXT_MAX)
    template.add_clause(
        META, "5", "Title", "  The organization shall:\n\n\n a)  plan\nb) do \n"
    )

    assert len(template.draft_clauses()[0].text) == TEXT_MAX
    assert (
        template.draft_clauses()[1].text == "The organization shall:\n\na) plan\nb) do"
    )


def test_a_clause_id_is_unique_within_the_draft():
    template = with_clauses(CONTEXT)
    refused(
        "standard_template.clause_exists",
        lambda: template.add_clause(META, "4", "Another", "Text"),
        template,
    )
    assert template.draft_clauses() == (CONTEXT,)


def test_the_parent_must_exist_in_the_draft():
    template = with_clauses(CONTEXT)
    refused(
        "standard_template.unknown_clause",
        lambda: template.add_clause(META, "5.1", "Leadership", "Text", "5"),
        template,
    )


def test_change_clause_records_the_new_title_and_text():
    template = with_clauses(CONTEXT, ISSUES)
    template.change_clause(META, "4.1", "Issues", "Determine external issues.")

    [event] = template.collect_events()
    assert isinstance(event, StandardTemplate.ClauseChanged)
    assert (event.clause_id, event.clause_title, event.text) == (
        "4.1",
        "Issues",
        "Determine external issues.",
    )
    assert template.draft_clauses() == (
        CONTEXT,
        ("4.1", "4", "Issues", "Determine external issues."),
    )


def test_changing_an_unknown_clause_is_refused():
    template = with_clauses(CONTEXT)
    refused(
        "standard_template.unknown_clause",
        lambda: template.change_clause(META, "4.1", "Issues", "Text"),
        template,
    )


def test_a_change_that_changes_nothing_is_refused():
    template = with_clauses(CONTEXT)
    refused(
        "standard_template.clause_unchanged",
        lambda: template.change_clause(META, "4", f" {CONTEXT[2]} ", CONTEXT[3]),
        template,
    )


def test_change_clause_refuses_a_blank_text():
    template = with_clauses(CONTEXT)
    with pytest.raises(InvalidValueError) as raised:
        template.change_clause(META, "4", "Title", "")
    assert raised.value.field == "text"
    assert template.draft_clauses() == (CONTEXT,)


def test_remove_clause_removes_a_leaf_then_its_childless_parent():
    template = with_clauses(CONTEXT, ISSUES)
    template.remove_clause(META, "4.1")
    template.remove_clause(META, "4")

    first, second = template.collect_events()
    assert isinstance(first, StandardTemplate.ClauseRemoved)
    assert isinstance(second, StandardTemplate.ClauseRemoved)
    assert (first.clause_id, second.clause_id) == ("4.1", "4")
    assert template.draft_clauses() == ()


def test_a_clause_with_children_cannot_be_removed():
    template = with_clauses(CONTEXT, ISSUES, PARTIES)
    refused(
        "standard_template.clause_has_children",
        lambda: template.remove_clause(META, "4"),
        template,
    )
    assert [c.clause_id for c in template.draft_clauses()] == ["4", "4.1", "4.2"]


def test_removing_an_unknown_clause_is_refused():
    template = with_clauses(CONTEXT)
    refused(
        "standard_template.unknown_clause",
        lambda: template.remove_clause(META, "4.1"),
        template,
    )


def test_a_removed_clause_id_can_be_added_again():
    template = with_clauses(CONTEXT, ISSUES)
    template.remove_clause(META, "4.1")
    template.add_clause(META, "4.1", "Issues", "Again.", "4")
    assert template.draft_clauses()[-1] == ("4.1", "4", "Issues", "Again.")


# Publishing


def test_publish_freezes_the_draft_as_version_1_and_closes_the_draft():
    template = with_clauses(CONTEXT, ISSUES)
    number = template.publish(META, JAN_1)

    [event] = template.collect_events()
    assert isinstance(event, StandardTemplate.Published)
    assert (event.template_version, event.published_on, event.supersedes) == (
        1,
        JAN_1,
        None,
    )
    assert event.clause_ids == ("4", "4.1")
    assert event.parent_ids == (None, "4")
    assert number == template.latest_published_version == 1
    published = template.published_version(1)
    assert (published.number, published.published_on) == (1, JAN_1)
    assert published.clauses == (CONTEXT, ISSUES)
    assert template.is_published(1)
    assert not template.is_superseded(1)
    assert template.draft_version is None


def test_an_empty_draft_cannot_be_published():
    template = drafted()
    refused("standard_template.empty", lambda: template.publish(META, JAN_1), template)
    assert template.latest_published_version is None


def test_a_draft_emptied_by_removals_cannot_be_published():
    template = with_clauses(CONTEXT)
    template.remove_clause(META, "4")
    template.collect_events()
    refused("standard_template.empty", lambda: template.publish(META, JAN_1), template)


@pytest.mark.parametrize(
    "command",
    [
        lambda t: t.add_clause(META, "5", "Leadership", "Text"),
        lambda t: t.change_clause(META, "4", "Context", "Changed."),
        lambda t: t.remove_clause(META, "4.1"),
        lambda t: t.publish(META, JAN_1),
        lambda t: t.draft_clauses(),
    ],
)
def test_without_an_open_draft_nothing_can_be_edited_or_published(command):
    template = published_once()
    refused("standard_template.no_draft", lambda: command(template), template)
    assert template.published_version(1).clauses == (CONTEXT, ISSUES)


def test_start_new_draft_copies_the_latest_published_version_as_version_2():
    template = published_once()
    number = template.start_new_draft(META)

    [event] = template.collect_events()
    assert isinstance(event, StandardTemplate.DraftStarted)
    assert (event.draft_version, event.copied_from) == (2, 1)
    assert number == template.draft_version == 2
    assert template.draft_clauses() == (CONTEXT, ISSUES)


def test_editing_the_new_draft_leaves_the_published_version_as_it_was():
    template = published_once()
    template.start_new_draft(META)
    template.change_clause(META, "4.1", "Issues", "Changed.")
    template.add_clause(META, "4.2", *PARTIES[2:], "4")
    template.remove_clause(META, "4.2")
    template.remove_clause(META, "4.1")

    assert template.published_version(1).clauses == (CONTEXT, ISSUES)
    assert template.draft_clauses() == (CONTEXT,)


@pytest.mark.parametrize("publications", [0, 1])
def test_a_new_draft_cannot_start_while_one_is_open(publications):
    template = with_clauses(CONTEXT)
    for _ in range(publications):
        template.publish(META, JAN_1)
        template.start_new_draft(META)
    template.collect_events()
    refused(
        "standard_template.draft_open",
        lambda: template.start_new_draft(META),
        template,
    )
    assert template.draft_version == publications + 1


def test_publishing_version_2_supersedes_version_1_which_stays_readable():
    template = published_once()
    template.start_new_draft(META)
    template.add_clause(META, *PARTIES[:1], *PARTIES[2:], parent_id="4")
    template.collect_events()
    number = template.publish(META, JAN_1 + timedelta(days=30))

    [event] = template.collect_events()
    assert isinstance(event, StandardTemplate.Published)
    assert (event.template_version, event.supersedes) == (2, 1)
    assert number == template.latest_published_version == 2
    assert template.is_superseded(1)
    assert not template.is_superseded(2)
    assert template.published_version(1).clauses == (CONTEXT, ISSUES)
    assert template.published_version(2).clauses == (CONTEXT, ISSUES, PARTIES)


@pytest.mark.parametrize("number", [0, 2, -1])
def test_an_unpublished_version_is_not_found(number):
    template = published_once()
    with pytest.raises(NotFoundError) as raised:
        template.published_version(number)
    assert raised.value.kind == "standard template version"
    assert raised.value.aggregate_id == number
    assert not template.is_published(number)
    assert not template.is_superseded(number)


def test_an_open_draft_is_not_a_published_version():
    template = published_once()
    template.start_new_draft(META)
    assert not template.is_published(2)
    with pytest.raises(NotFoundError):
        template.published_version(2)


# Retiring


def test_retire_discards_the_open_draft_and_keeps_published_versions_readable():
    template = published_once()
    template.start_new_draft(META)
    template.collect_events()
    template.retire(META, JAN_1 + timedelta(days=1))

    [event] = template.collect_events()
    assert isinstance(event, StandardTemplate.Retired)
    assert (event.retired_on, event.discarded_draft) == (JAN_1 + timedelta(days=1), 2)
    assert template.is_retired
    assert template.draft_version is None
    assert template.published_version(1).clauses == (CONTEXT, ISSUES)
    assert template.latest_published_version == 1


def test_a_template_never_published_can_be_retired():
    template = with_clauses(CONTEXT)
    template.retire(META, JAN_1)

    [event] = template.collect_events()
    assert isinstance(event, StandardTemplate.Retired)
    assert event.discarded_draft == 1
    assert template.latest_published_version is None


@pytest.mark.parametrize(
    "command",
    [
        lambda t: t.start_new_draft(META),
        lambda t: t.add_clause(META, "5", "Leadership", "Text"),
        lambda t: t.change_clause(META, "4", "Context", "Changed."),
        lambda t: t.remove_clause(META, "4.1"),
        lambda t: t.publish(META, JAN_1),
        lambda t: t.retire(META, JAN_1),
        lambda t: t.draft_clauses(),
    ],
)
def test_a_retired_template_takes_no_more_drafts_edits_or_publications(command):
    template = published_once()
    template.retire(META, JAN_1)
    template.collect_events()
    refused("standard_template.retired", lambda: command(template), template)


def test_retiring_with_a_draft_open_does_not_publish_it():
    template = published_once()
    template.start_new_draft(META)
    template.add_clause(META, "5", "Leadership", "Text")
    template.retire(META, JAN_1)
    assert template.latest_published_version == 1
    assert not template.is_published(2)


# Persistence


def test_published_versions_and_the_draft_survive_the_event_store():
    template = StandardTemplate.draft(META, "ISO 9001", "2015", "QMS checklist")
    template.add_clause(META, "4", *CONTEXT[2:])
    template.add_clause(META, "4.1", *ISSUES[2:], parent_id="4")
    template.publish(META, JAN_1)
    template.start_new_draft(META)
    template.add_clause(META, "4.2", *PARTIES[2:], parent_id="4")
    template.publish(META, date(2024, 6, 30))
    template.start_new_draft(META)
    template.change_clause(META, "4.2", "Parties", "Changed.")
    store = LibraryEventStore(in_memory_env())
    store.append(template)

    loaded = store.load(StandardTemplate, template.id)

    assert loaded is not None
    assert loaded.published_versions == template.published_versions
    assert loaded.published_version(2).published_on == date(2024, 6, 30)
    assert isinstance(loaded.published_version(2).clauses, tuple)
    assert loaded.draft_version == 3
    assert loaded.draft_clauses() == template.draft_clauses()
    assert loaded.is_superseded(1)
    assert not loaded.is_superseded(2)


# Properties

CLAUSE_IDS = st.sampled_from(["4", "4.1", "4.1.1", "5"])
PARENT_IDS = st.none() | st.sampled_from(["4", "4.1"])
TEXTS = st.sampled_from(["Shall plan.", "Shall do.", "Shall check.\nAnd act."])
Row = tuple[str, str | None, str, str]
RETIRE_AFTER_STEPS = 15
"""Retiring ends a run's interesting part, so it waits for half the steps."""


class StandardTemplateLifecycle(RuleBasedStateMachine):
    """Random commands never alter a published version nor open two drafts.

    A plain model (the draft as a list, each published version as a snapshot
    taken when it was published) predicts which commands are accepted.
    """

    def __init__(self) -> None:
        super().__init__()
        self.template = StandardTemplate.draft(META, "ISO 9001", "2015", "QMS")
        self.events = list(self.template.collect_events())
        self.draft: list[Row] | None = []
        self.snapshots: dict[int, tuple[Row, ...]] = {}
        self.retired = False
        self.today = JAN_1
        self.steps = 0

    def accepted(self, command) -> bool:
        self.steps += 1
        try:
            command()
        except RuleViolationError:
            assert self.template.pending_events == []
            return False
        self.events.extend(self.template.collect_events())
        return True

    def draft_row(self, clause_id: str) -> Row | None:
        return next((r for r in self.draft or [] if r[0] == clause_id), None)

    @rule(clause_id=CLAUSE_IDS, parent_id=PARENT_IDS, text=TEXTS)
    def add_clause(self, clause_id, parent_id, text):
        expected = (
            self.draft is not None
            and self.draft_row(clause_id) is None
            and (parent_id is None or self.draft_row(parent_id) is not None)
        )
        added = self.accepted(
            lambda: self.template.add_clause(META, clause_id, "T", text, parent_id)
        )
        assert added == expected
        if added and self.draft is not None:
            self.draft.append((clause_id, parent_id, "T", text))

    @rule(clause_id=CLAUSE_IDS, text=TEXTS)
    def change_clause(self, clause_id, text):
        row = self.draft_row(clause_id)
        expected = row is not None and row[3] != text
        changed = self.accepted(
            lambda: self.template.change_clause(META, clause_id, "T", text)
        )
        assert changed == expected
        if changed and self.draft is not None:
            self.draft = [
                (r[0], r[1], "T", text) if r[0] == clause_id else r for r in self.draft
            ]

    @rule(clause_id=CLAUSE_IDS)
    def remove_clause(self, clause_id):
        expected = self.draft_row(clause_id) is not None and not any(
            r[1] == clause_id for r in self.draft or []
        )
        removed = self.accepted(lambda: self.template.remove_clause(META, clause_id))
        assert removed == expected
        if removed and self.draft is not None:
            self.draft = [r for r in self.draft if r[0] != clause_id]

    @rule(days=st.integers(min_value=0, max_value=60))
    def publish(self, days):
        self.today += timedelta(days=days)
        expected = bool(self.draft)
        published = self.accepted(lambda: self.template.publish(META, self.today))
        assert published == expected
        if published and self.draft is not None:
            self.snapshots[len(self.snapshots) + 1] = tuple(self.draft)
            self.draft = None

    @rule()
    def start_new_draft(self):
        expected = not self.retired and self.draft is None
        started = self.accepted(lambda: self.template.start_new_draft(META))
        assert started == expected
        if started:
            self.draft = list(self.snapshots[max(self.snapshots)])

    @precondition(lambda self: self.steps >= RETIRE_AFTER_STEPS)
    @rule(days=st.integers(min_value=0, max_value=60))
    def retire(self, days):
        self.today += timedelta(days=days)
        retired = self.accepted(lambda: self.template.retire(META, self.today))
        assert retired != self.retired
        self.retired, self.draft = True, None

    @invariant()
    def published_versions_never_change(self):
        for number, clauses in self.snapshots.items():
            assert self.template.published_version(number).clauses == clauses
            assert self.template.is_superseded(number) == (number < len(self.snapshots))
        assert self.template.latest_published_version == max(
            self.snapshots, default=None
        )

    @invariant()
    def the_draft_is_the_model_draft(self):
        if self.draft is None:
            assert self.template.draft_version is None
        else:
            assert self.template.draft_version == len(self.snapshots) + 1
            assert self.template.draft_clauses() == tuple(self.draft)

    @invariant()
    def at_most_one_draft_is_ever_open(self):
        open_drafts: set[int] = set()
        for event in self.events:
            if isinstance(event, StandardTemplate.Drafted):
                open_drafts.add(1)
            elif isinstance(event, StandardTemplate.DraftStarted):
                open_drafts.add(event.draft_version)
            elif isinstance(event, StandardTemplate.Published):
                open_drafts.discard(event.template_version)
            elif isinstance(event, StandardTemplate.Retired):
                open_drafts.discard(event.discarded_draft or 0)
            assert len(open_drafts) <= 1
        current = self.template.draft_version
        assert open_drafts == (set() if current is None else {current})

    @invariant()
    def replaying_the_events_gives_the_same_template(self):
        replayed = None
        for event in self.events:
            replayed = event.mutate(replayed)
        assert isinstance(replayed, StandardTemplate)
        assert replayed.published_versions == self.template.published_versions
        assert replayed.draft_version == self.template.draft_version
        assert replayed.is_retired == self.template.is_retired


StandardTemplateLifecycle.TestCase.settings = settings(
    max_examples=50,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_standard_template_lifecycle = StandardTemplateLifecycle.TestCase
