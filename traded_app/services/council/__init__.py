"""The council's own records: its catalogue and prices, schools (and the GIAS import), quadrants
and partnerships, user accounts, council settings and academic years, the overview, backups.

The top of the services: may use ordering, documents, card_payments, finance, days and platform.
"""
