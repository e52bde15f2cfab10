"""Every route and API endpoint, tried as every kind of caller.

A route must declare who may use it (``@require(...)`` or ``@public``); callers outside that
set are refused before the view runs, and an employer admin asking for another employer's
records is answered as if they did not exist.
"""

import re

import pytest

from trainer.auth import PUBLIC

PERSONAS = ["anonymous", "worker", "instructor", "other_safety", "admin"]
ROLE_OF = {"worker": "worker", "instructor": "instructor", "other_safety": "employer_admin",
           "admin": "admin"}
# Routes that end the caller's session are exercised in their own tests.
SKIP_POST = {"accounts.logout"}


def endpoints(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        yield rule, app.view_functions[rule.endpoint]


def fill(rule, people):
    """A URL for the rule, pointing at records of the Acme employer where it takes ids."""
    values = {"user_id": people["worker"], "employer_id": people["acme_id"]}
    url = rule.rule
    for converter, name in re.findall(r"<(?:([a-z]+):)?([a-z_]+)>", url):
        value = values.get(name, 1 if converter == "int" else "x")
        url = re.sub(rf"<(?:[a-z]+:)?{name}>", str(value), url)
    return url


def test_every_route_declares_its_access(app):
    missing = [rule.endpoint for rule, view in endpoints(app) if not hasattr(view, "access")]
    assert missing == [], f"routes without @require/@public: {missing}"


@pytest.mark.parametrize("persona", PERSONAS)
def test_callers_outside_a_route_s_roles_are_refused(app, client, people, persona):
    if persona != "anonymous":
        client.login(people[persona + "_login"])
        token = client.csrf("/account")
    else:
        token = client.csrf("/login")
    problems = []
    for rule, view in endpoints(app):
        url = fill(rule, people)
        is_api = url.startswith("/api/")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method != "GET" and rule.endpoint in SKIP_POST:
                continue
            kwargs = {"headers": {"X-CSRFToken": token}}
            if method != "GET":
                kwargs["data" if not is_api else "json"] = (
                    {"csrf_token": token} if not is_api else {})
            response = client.open(url, method=method, **kwargs)
            status = response.status_code
            if status >= 500:
                problems.append(f"{method} {url}: {status}")
                continue
            if view.access == PUBLIC:
                continue
            allowed = persona != "anonymous" and ROLE_OF[persona] in view.access
            if persona == "anonymous":
                expected = {401} if is_api else {302}
                if status not in expected or (status == 302 and "/login" not in
                                              response.headers["Location"]):
                    problems.append(f"{method} {url}: anonymous got {status}")
            elif not allowed and status not in {403, 404}:
                problems.append(f"{method} {url}: {persona} got {status}")
            elif (allowed and persona == "other_safety"
                  and re.search(r"<(?:int:)?(user_id|employer_id)>", rule.rule)
                  and status not in {403, 404}):
                problems.append(f"{method} {url}: another employer's admin got {status}")
    assert problems == []
