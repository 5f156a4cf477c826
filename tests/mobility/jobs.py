"""Running queued jobs in tests that use the `db` fixture.

Those tests run inside a transaction that is rolled back at the end, so nothing ever commits and jobs enqueued
"after the commit" (`transaction.on_commit`) would never run. `committed()` runs them when its block ends, as a
real commit would, on the backend in settings (the immediate one by default). Tests of the real database queue
use `transactional_db` instead (see test_tasks.py).
"""

from django.test import TestCase


def committed():
    return TestCase.captureOnCommitCallbacks(execute=True)
