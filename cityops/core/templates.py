"""The project's template backends: Django's, with ``{% load i18n %}`` giving the faster translate, and
Jinja2 for the busiest pages (``config/jinja_env.py``).

``core/templatetags/i18n_fast.py`` is Django's ``i18n`` library with plain-text ``{% translate %}``
translated directly. Mapping the ``i18n`` name to it through the engine's ``libraries`` option works,
but Django's checks then warn (templates.W003) that two modules share the name on every
``manage.py`` command. The backend puts it in place of Django's library once the engine is built.
"""

from __future__ import annotations

import sys

import jinja2
from django.middleware.csrf import get_token
from django.template import TemplateSyntaxError
from django.template.backends import jinja2 as jinja2_backend
from django.template.backends.django import DjangoTemplates
from django.template.backends.utils import csrf_input
from django.utils.translation import get_language, gettext


class Templates(DjangoTemplates):
    def __init__(self, params):
        super().__init__(params)
        from cityops.core.templatetags import i18n_fast

        self.engine.template_libraries["i18n"] = i18n_fast.register


class Jinja2(jinja2_backend.Jinja2):
    """Django's Jinja2 backend, with three differences in how a template renders.

    - The CSRF field is made once per page. Django's backend passes it as a lazy proxy that masks the
      token anew each time ``{{ csrf_input }}`` is written: three times on a case page, at the cost of
      32 random draws each.
    - ``_`` translates each text once per language and process (``translator``).
    - The rendering is announced with ``template_rendered``, as Django's own templates are. The test
      client learns a response's templates and context from it, so tests read ``response.context`` of
      a Jinja2 page as of any other. Nothing listens outside tests, and the check costs nothing then.
    """

    def get_template(self, template_name):
        return _Template(super().get_template(template_name))

    def from_string(self, template_code):
        return _Template(super().from_string(template_code))


class _Translated(dict):
    """One language's texts as the templates' ``_`` asks for them, each translated once per process."""

    def __missing__(self, message: str) -> str:
        self[message] = value = gettext(message)
        return value


_TRANSLATED: dict[str | None, _Translated] = {}


def translator(language: str | None):
    """``_`` for a page in ``language``: a dictionary read. Django's ``gettext`` finds the active
    language and walks its catalogues on every call: 40 calls, 4% of a work queue page."""
    texts = _TRANSLATED.get(language)
    if texts is None:
        texts = _TRANSLATED.setdefault(language, _Translated())
    return texts.__getitem__


class _Once:
    """A value made on first use and kept: Jinja2 writes it through ``__html__`` (safe markup)."""

    __slots__ = ("_make", "_value")

    def __init__(self, make):
        self._make, self._value = make, None

    def __html__(self) -> str:
        if self._value is None:
            self._value = self._make()
        return self._value

    __str__ = __html__


class _Template:
    def __init__(self, template: jinja2_backend.Template):
        self._template = template
        self.backend = template.backend
        self.origin = template.origin
        self.name = template.origin.template_name

    def render(self, context=None, request=None):
        context = {} if context is None else context
        context["_"] = translator(get_language())
        if request is not None:
            context["request"] = request
            context["csrf_input"] = _Once(lambda: csrf_input(request))
            context["csrf_token"] = _Once(lambda: get_token(request))
            for context_processor in self.backend.template_context_processors:
                context.update(context_processor(request))
        try:
            out = self._template.template.render(context)
        except jinja2.TemplateSyntaxError as exc:
            new = TemplateSyntaxError(exc.args)
            new.template_debug = jinja2_backend.get_exception_info(exc)
            raise new from exc
        # the signal lives in django.test, loaded by the test client (not imported here for production)
        signals = sys.modules.get("django.test.signals")
        if signals is not None and signals.template_rendered.receivers:
            signals.template_rendered.send(sender=self, template=self, context=context)
        return out
