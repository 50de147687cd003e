"""The WSGI entry point for gunicorn: `gunicorn -c gunicorn.conf.py api.wsgi:app`."""

from api import create_app
from api.logs import configure_logging
from cdss.settings import load_settings

settings = load_settings()
configure_logging(settings.log_level)
app = create_app(settings)
