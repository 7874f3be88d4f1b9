"""Billing: the membership, Stripe Checkout, webhooks and the paid-access rule."""
