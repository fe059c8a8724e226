"""schemathesis hooks: every request carries the director's portal and
messenger cookies (fixture.py), renewed when a request answers 401 (a
fuzzed request may have signed the director out)."""

import os
import sys

import schemathesis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fixture  # noqa: E402


@schemathesis.auth(refresh_interval=3600, retry_on=[401])
class DemoDirector:
    def get(self, case, context):
        return fixture.cookies()

    def set(self, case, data, context):
        case.cookies = {**(case.cookies or {}), **data}
