"""Street networks and map matching (pure: no Django). In-process Valhalla; see ``matcher`` and ``network``."""
