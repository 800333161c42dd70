"""Test harness: a pytest plugin with real servers, per-run names and a TCP fault proxy.

`plugin` holds the fixtures, `services` finds the servers, `names` derives what a run owns on
them, `proxy` cuts connections on demand.
"""
