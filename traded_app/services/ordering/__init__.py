"""Ordering: the catalogue as a school sees it, the basket (draft order), the order workflow from
submission to completion, and the e-mails about each step.

May use documents, card_payments, finance, days and platform; never council.
"""
