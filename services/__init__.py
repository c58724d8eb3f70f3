"""The domain: every write, the state machine, the working-day calendar and the selectors.

Admin, portal, API, Celery tasks and the seed loader call these functions; no rule lives anywhere else.
"""
