from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

# The page frame's links, by script prefix and URLconf (both fixed in a deployment; tests may swap).
_LAYOUT_URLS: dict[tuple, dict[str, str]] = {}


def _layout_urls() -> dict[str, str]:
    """The links of every page's frame (home, log-out, language), reversed once: as ``{% url %}``
    tags in ``base.html`` they were 3% of a case page."""
    key = (get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)
    urls = _LAYOUT_URLS.get(key)
    if urls is None:
        urls = _LAYOUT_URLS[key] = {
            "home": reverse("accounts:home"),
            "logout": reverse("accounts:logout"),
            "set_language": reverse("set_language"),
        }
    return urls


def platform(request):
    """Values every page needs: the city's name, demo flag, platform-wide warnings, the frame's links."""
    from cityops.core.calendar import calendar_warnings
    from cityops.geography.selectors import city_name

    return {
        "CITYOPS_DEMO": settings.CITYOPS_DEMO,
        "CITY_NAME": city_name(),
        "PLATFORM_WARNINGS": calendar_warnings()
        if getattr(request, "user", None) and request.user.is_staff
        else [],
        "LAYOUT_URLS": _layout_urls(),
    }
