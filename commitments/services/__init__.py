"""Every write to a customer or a commitment: one function per use case, one transaction each.

By purpose: customers (records), permissions (who may do what), lifecycle (each move of a commitment),
inputs (cleaning what was typed), timeline (the one writer of timeline events). Pages, the API, tasks
and the sweeps call these; reads live in selectors, which never import services.
"""

from commitments.services.customers import (
    CustomerDetails,
    clean_customer_details,
    contact_taken_in_team,
    edit_customer,
    ensure_can_edit_customer,
    upsert_customer,
)
from commitments.services.inputs import (
    MAX_UPDATE_INTERVAL,
    MIN_UPDATE_INTERVAL,
    clean_future,
    clean_text,
    clean_update_interval,
    collect,
)
from commitments.services.lifecycle import (
    cancel,
    confirm,
    create_commitment,
    due_after_resuming,
    edit_commitment,
    fulfil,
    hand_off,
    record_chase,
    reopen,
    reschedule,
    resume,
    send_update,
    wait_on_customer,
)
from commitments.services.permissions import (
    MOVES,
    available_actions,
    ensure_can_act,
    is_lead_of,
)
from commitments.services.timeline import (
    record_event,
)

__all__ = [
    "MAX_UPDATE_INTERVAL",
    "MIN_UPDATE_INTERVAL",
    "MOVES",
    "CustomerDetails",
    "available_actions",
    "cancel",
    "clean_customer_details",
    "clean_future",
    "clean_text",
    "clean_update_interval",
    "collect",
    "confirm",
    "contact_taken_in_team",
    "create_commitment",
    "due_after_resuming",
    "edit_commitment",
    "edit_customer",
    "ensure_can_act",
    "ensure_can_edit_customer",
    "fulfil",
    "hand_off",
    "is_lead_of",
    "record_chase",
    "record_event",
    "reopen",
    "reschedule",
    "resume",
    "send_update",
    "upsert_customer",
    "wait_on_customer",
]
