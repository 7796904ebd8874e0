"""Django's ``i18n`` template library, with ``{% translate %}`` of a plain text translated directly.

Loaded by ``{% load i18n %}`` (the project's template backend, ``cityops.core.templates``). Django
translates a literal through a lazy proxy made and resolved on each render: with some thirty such
tags on a page that was 4% of a case page. Here a literal with no filters, no context and no
``noop`` is translated with ``gettext`` itself; the result, its escaping, the ``%`` handling and
``as`` are those of Django's node, which every other form still uses.
"""

from __future__ import annotations

from django import template
from django.template.base import render_value_in_context
from django.templatetags import i18n as django_i18n
from django.utils.safestring import SafeData, mark_safe
from django.utils.translation import gettext

register = template.Library()
register.tags.update(django_i18n.register.tags)
register.filters.update(django_i18n.register.filters)


class TranslateNode(django_i18n.TranslateNode):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fe, literal = self.filter_expression, self.filter_expression.var.literal
        direct = isinstance(literal, str) and not fe.filters and not self.noop and not self.message_context
        # as Django's Variable.resolve prepares a msgid: percent signs doubled, safety kept
        self.msgid = (
            (mark_safe if isinstance(literal, SafeData) else str)(literal.replace("%", "%%"))
            if direct
            else None
        )

    def render(self, context):
        if self.msgid is None:
            return super().render(context)
        value = render_value_in_context(gettext(self.msgid), context)
        is_safe = isinstance(value, SafeData)
        value = value.replace("%%", "%")
        value = mark_safe(value) if is_safe else value  # noqa: S308 (safe stays safe, as in Django)
        if self.asvar:
            context[self.asvar] = value
            return ""
        return value


@register.tag("translate")
@register.tag("trans")
def do_translate(parser, token):
    node = django_i18n.do_translate(parser, token)
    return TranslateNode(node.filter_expression, node.noop, node.asvar, node.message_context)
