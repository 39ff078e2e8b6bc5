"""Documents: numbering, the data a document is built from, issuing invoices, recharges and
credit notes, rendering their PDFs, e-mailing them, reading them, and invoice runs.

May use finance, days and platform; never council, ordering or card_payments.
"""
