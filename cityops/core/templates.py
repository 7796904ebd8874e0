"""The project's template backend: Django's, with ``{% load i18n %}`` giving the faster translate.

``core/templatetags/i18n_fast.py`` is Django's ``i18n`` library with plain-text ``{% translate %}``
translated directly. Mapping the ``i18n`` name to it through the engine's ``libraries`` option works,
but Django's checks then warn (templates.W003) that two modules share the name on every
``manage.py`` command. The backend puts it in place of Django's library once the engine is built.
"""

from __future__ import annotations

from django.template.backends.django import DjangoTemplates


class Templates(DjangoTemplates):
    def __init__(self, params):
        super().__init__(params)
        from cityops.core.templatetags import i18n_fast

        self.engine.template_libraries["i18n"] = i18n_fast.register
