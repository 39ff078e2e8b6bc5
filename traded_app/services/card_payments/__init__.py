"""Card payments through Stripe: keys, Checkout, the webhook, recording, refunds, reviews of held
payments and reconciliation. The only package that imports `stripe`.

May use finance, days and platform; never council, ordering or documents.
"""
