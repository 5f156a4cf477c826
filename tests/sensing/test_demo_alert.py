import pytest

pytestmark = pytest.mark.django_db


def test_demo_episode_raised_an_alert(cities):
    import random

    from smartip.cities.demo import demo_neighbourhoods
    from smartip.cities.services import import_neighbourhoods
    from smartip.core.demo import ensure_demo_users
    from smartip.sensing.alert_models import AlertEpisode
    from smartip.sensing.demo import load_demo

    city = cities["ghent"]
    import_neighbourhoods(city=city, geojson=demo_neighbourhoods(city, random.Random(1)))
    users, _ = ensure_demo_users(city)
    load_demo(city=city, users=users, rng=random.Random(2))
    assert AlertEpisode.objects.filter(subscription__city=city).exists()
