"""Ordering: the catalogue as a school sees it (offer), the basket (the draft order and its live
figures), the order workflow from submission to completion with its one table of steps
(workflow), orders found and listed (lists), and the e-mails about each step (notifications).

May use documents, card_payments, finance, days and platform; never council.
"""
