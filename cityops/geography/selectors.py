def city_name() -> str:
    return ""
