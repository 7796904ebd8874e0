"""Production settings plus the case page's floor route (``benchmarks.floor``)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.floor_urls"
