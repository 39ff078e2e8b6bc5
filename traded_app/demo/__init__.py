"""Demo data for development and the demo: Essex schools, accounts, orders, visits, documents,
payments and their audit trail, loaded through the real services.

Only the command line (`flask seed-demo`) imports this package; production refuses it.
"""
