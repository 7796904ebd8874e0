"""The WSGI application for production servers (granian, see docs/deployment.md).

Once Django is set up, the objects it made (settings, apps, models, URL patterns, templates loaded
so far: some 130,000) are moved out of the garbage collector's sight with ``gc.freeze()``. They live
as long as the worker does, yet every full collection walked them all again: the collector took 7%
of a case page's or work queue's CPU, and 3.5% once they are frozen.
"""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
gc.freeze()
