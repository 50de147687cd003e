"""The WSGI entry point for gunicorn: `gunicorn -c gunicorn.conf.py api.wsgi:app`.

The worker loads the graph, the NLP pipeline and the models before gunicorn lets it accept a connection,
so a new or recycled worker never answers 503 while it loads (the others take the traffic meanwhile). Only a
store that is not there yet (Neo4j still starting) is retried in the background, with /readyz saying why.
"""

from api import create_app
from api.logs import configure_logging
from cdss.settings import load_settings

settings = load_settings()
configure_logging(settings.log_level)
app = create_app(settings, background=False)
if app.extensions["cdss"].engine is None:
    app.extensions["cdss"].start(background=True)
