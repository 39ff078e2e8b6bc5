"""Flask-WTF forms rendered with GOV.UK Frontend widgets and GOV.UK-style error messages."""
