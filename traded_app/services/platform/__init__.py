"""The mechanisms every domain package shares: council settings and the date, the audit trail,
mail, passwords, after-commit work, the base error, paging and the document store.

The bottom of the services: imports no other service package.
"""
