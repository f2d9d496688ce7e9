"""The demo credentials the sandbox emulators accept, owned by the sandbox.

Each emulator checks requests against these (tokens, API keys, OAuth client) and signs its
outgoing webhooks with the secrets below. Clients that talk to the sandbox (ticketflow's
default platform settings, tests) import them from here.
"""

from __future__ import annotations

SANDBOX_BIGCOMMERCE_STORE_HASH = "sandboxstore"
SANDBOX_BIGCOMMERCE_TOKEN = "sandbox-bigcommerce-token"
SANDBOX_SHOPIFY_TOKEN = "shpat_sandbox"
SANDBOX_STAYAI_TOKEN = "sandbox-stayai-token"
SANDBOX_SKIO_TOKEN = "sandbox-skio-token"
SANDBOX_EASYPOST_API_KEY = "EZTKsandbox"
SANDBOX_EASYPOST_WEBHOOK_SECRET = "sandbox-easypost-webhook-secret"
SANDBOX_ZENDESK_EMAIL = "agent@example.com"
SANDBOX_ZENDESK_TOKEN = "sandbox-zendesk-token"
SANDBOX_ZENDESK_WEBHOOK_SECRET = "sandbox-zendesk-signing-secret"
SANDBOX_KUSTOMER_API_KEY = "sandbox-kustomer-key"
SANDBOX_KUSTOMER_WEBHOOK_SECRET = "sandbox-kustomer-webhook-token"
SANDBOX_SALESFORCE_CLIENT_ID = "sandbox-salesforce-client"
SANDBOX_SALESFORCE_CLIENT_SECRET = "sandbox-salesforce-secret"
SANDBOX_SALESFORCE_ORGANIZATION_ID = "00D000000000001EAA"
SANDBOX_OPENAI_API_KEY = "sk-sandbox-openai"
