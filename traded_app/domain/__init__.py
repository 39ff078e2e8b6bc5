"""Pure rules with no database, request or I/O: money in pence and days in half-day units.

Everything may import this package (models included); it imports nothing of the app.
"""
