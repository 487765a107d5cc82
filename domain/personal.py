"""Personal data in events: what an erased value reads as.

An event class names its personal fields in ``PERSONAL`` and, in ``PERSON``,
the attribute holding the id of the person they belong to (for an account's
events, the account itself: ``originator_id``). The store seals those values
with that person's key; erasing the person destroys the key, and every
reader then sees :data:`ERASED` in their place.
"""

from __future__ import annotations

ERASED = "[erased]"
"""The value of a personal field whose person was erased."""
