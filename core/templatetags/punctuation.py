"""``{% colon %}`` and ``|parens``: punctuation in the page's language (core/punctuation.py)."""

from django import template

from core import punctuation

register = template.Library()


@register.simple_tag
def colon() -> str:
    return punctuation.colon()


@register.filter
def parens(value) -> str:
    return punctuation.parens(value)
