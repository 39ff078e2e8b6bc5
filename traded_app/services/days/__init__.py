"""Days: core allocations, the days ledger (allocated or bought, booked, delivered, left) and
visits booked, delivered and cancelled.

May use platform only.
"""
