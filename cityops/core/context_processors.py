from django.conf import settings


def platform(request):
    """Values every page needs: the city's name, demo flag, and platform-wide warnings."""
    from cityops.core.calendar import calendar_warnings
    from cityops.geography.selectors import city_name

    return {
        "CITYOPS_DEMO": settings.CITYOPS_DEMO,
        "CITY_NAME": city_name(),
        "PLATFORM_WARNINGS": calendar_warnings()
        if getattr(request, "user", None) and request.user.is_staff
        else [],
    }
