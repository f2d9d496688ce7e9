"""Platforms and the roles they fill, as a policy names them in its front matter.

A generic tool (`@set_discount_to_order`) binds to a role ("store", "subscriptions",
"helpdesk", "carrier"); the policy's platforms decide which platform fills it.
"""

from __future__ import annotations

from typing import Literal

Role = Literal["store", "subscriptions", "helpdesk", "carrier"]
ROLES: tuple[Role, ...] = ("store", "subscriptions", "helpdesk", "carrier")

#: Each known platform and the roles it can fill. Stay AI and Skio hold both the
#: subscription and the orders it generates, so they can act as the store too.
PLATFORM_ROLES: dict[str, tuple[Role, ...]] = {
    "bigcommerce": ("store",),
    "shopify": ("store",),
    "stayai": ("subscriptions", "store"),
    "skio": ("subscriptions", "store"),
    "kustomer": ("helpdesk",),
    "zendesk": ("helpdesk",),
    "salesforce": ("helpdesk",),
    "web": ("helpdesk",),
    "easypost": ("carrier",),
}

#: Human names of the platforms, for messages and the CLI.
PLATFORM_TITLES: dict[str, str] = {
    "bigcommerce": "BigCommerce",
    "shopify": "Shopify",
    "stayai": "Stay AI",
    "skio": "Skio",
    "kustomer": "Kustomer",
    "zendesk": "Zendesk",
    "salesforce": "Salesforce Service Cloud",
    "web": "web chat",
    "easypost": "EasyPost",
}

#: The platform a role falls back to when the policy names none (the carrier is
#: always reached through EasyPost; the built-in web channel is the helpdesk).
DEFAULT_FOR_ROLE: dict[str, str] = {"carrier": "easypost", "helpdesk": "web"}


def platform_key(name: str) -> str:
    """Normalise a platform as written in front matter ("Stay AI", "Salesforce Service
    Cloud") to its catalog key ("stayai", "salesforce"): lower case, joined into one word."""
    key = "".join(ch for ch in name.lower() if ch.isalnum())
    aliases = {"salesforceservicecloud": "salesforce", "servicecloud": "salesforce"}
    return aliases.get(key, key)


def resolve_platform(binds_to: str, platforms: list[str] | tuple[str, ...]) -> str | None:
    """The concrete platform a tool runs against, given the policy's platforms.

    A named platform binds to itself. A role binds to the first listed platform that can
    fill it, else the role's default, else None. The order is the author's: a shop whose
    orders live in a store behind its subscription app (Skio on Shopify) lists the store
    first (``[shopify, skio, kustomer]``), one whose subscription app holds the orders lists
    the app alone (``[stayai, zendesk]``). At run time the ticket passes the entry policy's
    platforms first, so a policy handed over to runs on the caller's store, whatever store
    its own front matter names.
    """
    if binds_to in PLATFORM_ROLES:
        return binds_to
    for key in (platform_key(p) for p in platforms):
        if binds_to in PLATFORM_ROLES.get(key, ()):
            return key
    return DEFAULT_FOR_ROLE.get(binds_to)


def default_for_role(role: str, defaults: list[str] | tuple[str, ...]) -> str | None:
    """The platform a deployment's default platforms give `role`: the one listed that can
    fill it, None when none or several can (a guess between two stores would be wrong)."""
    able = [key for key in defaults if role in PLATFORM_ROLES.get(key, ())]
    return able[0] if len(able) == 1 else None
