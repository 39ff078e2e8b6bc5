"""Money after issue: balances and statuses, payments and reversals, the register, aged debt,
reminders and exports for the council's ledger.

May use platform only.
"""
