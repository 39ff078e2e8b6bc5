"""Card payments through Stripe: keys, Checkout, the webhook, recording, refunds, reviews of held
payments and reconciliation. The only package that imports `stripe`.

May use finance, days and platform; never council, ordering or documents.

- keys: the Stripe keys as saved, the Stripe client, CardPaymentError (shared by every step).
- checkout: whether an invoice can be paid by card, and the Checkout Session for its balance.
- recording: the one idempotent function that records what Stripe says was paid, or holds it.
- webhook: verifying Stripe's signed events and handing each to what records it.
- refunds: refunding a credit note by card, and recording the refunds Stripe tells us of.
- reviews: held payments and refunds, for finance to apply or mark as dealt with.
- reconcile: Stripe's lists of payments and refunds against ours, every difference listed.

Whether card payments are offered, the keys in force and the PDF's payment link are in
platform.card_links, below both this package and documents (which needs them too).
"""
