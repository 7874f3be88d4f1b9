"""The baseline for bench/webhooks.py: a bare Flask endpoint that only verifies the signature."""

from __future__ import annotations

import os

import stripe
from flask import Flask, jsonify, request

app = Flask(__name__)
SECRET = os.environ["STRIPE_WEBHOOK_SECRET"]


@app.post("/webhooks/stripe")
def stripe_webhook():
    """Verify the signature and answer; nothing else."""
    try:
        stripe.Webhook.construct_event(
            request.get_data(), request.headers.get("Stripe-Signature"), SECRET
        )
    except (ValueError, stripe.SignatureVerificationError):
        return jsonify(error="invalid"), 400
    return jsonify(received=True), 200
