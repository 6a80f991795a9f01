"""Webhooks: requests from machines, each authenticated by its own secret (no session, no CSRF): the SMS forwarder
of the receiving phone now (sms.py); payment providers' callbacks later."""
