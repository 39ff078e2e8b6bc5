"""The WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi …`."""

import sys

from traded_app import ConfigError, create_app

try:
    app = create_app()
except ConfigError as error:
    # A person is starting the app: tell them what to fix, without a stack trace.
    sys.exit(f"Configuration error: {error}")
