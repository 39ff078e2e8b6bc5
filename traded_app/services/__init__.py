"""The domain: plain functions over the models. No request, session or flash in here.

Services flush; the request (or the CLI command) commits once.
"""
