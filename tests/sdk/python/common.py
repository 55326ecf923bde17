"""The complete certification review that review_v3.py and review_v1.py run, each through one
release of SailPoint's official Python SDK (PyPI `sailpoint`) against a running `recert serve`.

The two releases differ in module paths, in method names (2.x appends `_v1`) and in the paths
they call; review_v3.py and review_v1.py describe their SDK in an `Sdk` and call `main(sdk)`.

Environment (see tests/sdk/run.sh):
  RECERT_SDK_BASE_URL                         e.g. http://127.0.0.1:8080 (token: BASE_URL/oauth/token)
  RECERT_SDK_ADMIN_ID / _SECRET               an API client with role CERT_ADMIN
  RECERT_SDK_REVIEWER_ID / _SECRET            an API client bound to the reviewer's identity
  RECERT_SDK_OTHER_ID / _SECRET               an API client bound to another reviewer's identity
  RECERT_SDK_CERT_ID                          an ACTIVE certification of the reviewer, not used by
                                              any other program (at least 8 undecided items over
                                              two or more identities); it ends SIGNED
  RECERT_SDK_REASSIGN_TO                      an identity that may receive reassigned items
  RECERT_SDK_OTHER_CERT_ID                    a certification of the other reviewer (only read)

Every step prints `PASS  [sdk] step` or `FAIL  [sdk] step: why` and the first failure exits 1.
"""

import datetime
import json
import os
import re
import secrets
import sys
import time
import traceback
from contextlib import contextmanager

PAGE = 10  # the page size of the paging walk
MAX = 250  # the largest page, and the most decisions one decide call takes


class Sdk:
    """One Python SDK release: how to build its clients and what its methods are called."""

    def __init__(self, label, suffix, make_certifications, make_campaigns, models, exceptions):
        self.label = label  # printed with every step
        self.suffix = suffix  # appended to every method name ("" for 1.x, "_v1" for 2.x)
        self.make_certifications = make_certifications  # Configuration -> CertificationsApi
        self.make_campaigns = make_campaigns  # Configuration -> CertificationCampaignsApi
        self.models = models  # ReviewDecision, ReviewReassign, ReassignReference, ErrorResponseDto
        self.exceptions = exceptions  # the ApiException classes its clients raise


class Failed(Exception):
    pass


SDK = None


def check(cond, msg):
    if not cond:
        raise Failed(msg)


def describe(e):
    if isinstance(e, SDK.exceptions):
        return f"HTTP {e.status} {e.reason}: {(e.body or '')[:600]}"
    if isinstance(e, Failed):
        return str(e)
    return f"{type(e).__name__}: {e}\n{traceback.format_exc()}"


@contextmanager
def step(name):
    try:
        yield
    except Exception as e:  # noqa: BLE001 - every failure ends the run, with its step
        print(f"FAIL  [{SDK.label}] {name}: {describe(e)}", flush=True)
        sys.exit(1)
    print(f"PASS  [{SDK.label}] {name}", flush=True)


def notice(msg):
    print(f"NOTE  [{SDK.label}] {msg}", flush=True)


def env(name):
    value = os.environ.get(name, "").strip()
    if not value:
        print(f"FAIL  [{SDK.label}] environment: {name} is not set", flush=True)
        sys.exit(2)
    return value


def op(api, name, http_info=False):
    """The SDK method for an operation, e.g. op(api, "get_identity_certification"); with
    http_info, its `..._with_http_info` form, whose ApiResponse has the headers."""
    return getattr(api, name + SDK.suffix + ("_with_http_info" if http_info else ""))


def raw_call(api, name, types, **params):
    """Sends an operation through the SDK's own serializer and HTTP client, skipping the
    client-side validation (pydantic `validate_call` and model constructors) that would stop
    the request: the private `_<op>_serialize`, then `api_client.call_api` and
    `response_deserialize`, which raises the SDK's ApiException on a non-2xx answer."""
    serialize = getattr(api, f"_{name}{SDK.suffix}_serialize")
    request = serialize(_request_auth=None, _content_type=None, _headers=None, _host_index=0, **params)
    response = api.api_client.call_api(*request)
    response.read()
    return api.api_client.response_deserialize(response_data=response, response_types_map=types)


ERRORS = {"400": "ErrorResponseDto", "403": "ErrorResponseDto", "404": "ErrorResponseDto", "500": "ErrorResponseDto"}


def expect_error(status, call, *args, **kwargs):
    """Calls the SDK expecting its ApiException with `status` and an ErrorResponseDto body whose
    messages[0].text is non-empty; returns that text."""
    try:
        result = call(*args, **kwargs)
    except SDK.exceptions as e:
        check(e.status == status, f"expected HTTP {status}, got {e.status}: {(e.body or '')[:400]}")
        dto = e.data
        check(isinstance(dto, SDK.models.ErrorResponseDto),
              f"the SDK did not read the {status} body as an ErrorResponseDto: {(e.body or '')[:400]}")
        check(dto.messages and dto.messages[0].text, f"messages[0].text is empty: {e.body}")
        check(dto.tracking_id, f"no trackingId: {e.body}")
        return dto.messages[0].text
    raise Failed(f"expected HTTP {status}, the call succeeded: {str(result)[:300]}")


def total_count(response):
    # Header names are case-insensitive (recert sends them in lower case, as HTTP/2 requires);
    # the SDK hands them over as a plain mapping.
    value = next((v for k, v in (response.headers or {}).items() if k.lower() == "x-total-count"), None)
    check(value is not None, "no X-Total-Count header with count=true")
    return int(value)


def walk(call, limit=MAX, **params):
    """Every page of a list operation (limit/offset, count=true); returns (items, X-Total-Count)
    and checks that every page announces the same total and that the pages add up to it."""
    items, offset, total = [], 0, None
    while True:
        response = call(limit=limit, offset=offset, count=True, **params)
        check(response.status_code == 200, f"status {response.status_code}")
        page = response.data
        check(isinstance(page, list), f"not a list: {page!r}"[:300])
        page_total = total_count(response)
        check(total in (None, page_total), f"X-Total-Count changed between pages: {total} then {page_total}")
        total = page_total
        check(len(page) <= limit, f"{len(page)} items in a page of limit {limit}")
        items += page
        if len(page) < limit:
            break
        offset += limit
        check(offset <= total + limit, "paging does not end")
    check(len(items) == total, f"the pages hold {len(items)} items, X-Total-Count says {total}")
    return items, total


def is_sorted(rows, descending):
    """Whether rows (tuples of strings) are in the order of their fields, each ascending or
    descending; byte order or case-insensitive order are both accepted."""
    for norm in (lambda s: s, str.casefold):
        keys = [tuple(norm(v or "") for v in row) for row in rows]
        expected = list(keys)
        for i in reversed(range(len(descending))):
            expected.sort(key=lambda k: k[i], reverse=descending[i])
        if expected == keys:
            return True
    return False


def hex32():
    return secrets.token_hex(16)


def main(sdk):
    global SDK
    SDK = sdk
    from sailpoint.configuration import Configuration, ConfigurationParams

    base_url = env("RECERT_SDK_BASE_URL").rstrip("/")
    cert_id = env("RECERT_SDK_CERT_ID")
    other_cert_id = env("RECERT_SDK_OTHER_CERT_ID")
    reassign_to = env("RECERT_SDK_REASSIGN_TO")
    credentials = {who: (env(f"RECERT_SDK_{who}_ID"), env(f"RECERT_SDK_{who}_SECRET"))
                   for who in ("ADMIN", "REVIEWER", "OTHER")}
    M = sdk.models
    print(f"----  [{sdk.label}] certification {cert_id} at {base_url}", flush=True)

    # -- Tokens: sailpoint.configuration.Configuration POSTs grant_type=client_credentials,
    #    client_id, client_secret (application/x-www-form-urlencoded) to base_url + /oauth/token
    #    in its constructor, and only prints a failure, leaving access_token None.
    configs = {}
    with step("token: Configuration(base_url, client_id, client_secret) fetches one per client"):
        for who, (client_id, secret) in credentials.items():
            params = ConfigurationParams()
            params.base_url, params.client_id, params.client_secret = base_url, client_id, secret
            config = Configuration(params)
            check(isinstance(config.access_token, str) and config.access_token,
                  f"no access token for the {who} client {client_id}")
            configs[who] = config
    certs = sdk.make_certifications(configs["REVIEWER"])
    other = sdk.make_certifications(configs["OTHER"])
    admin = sdk.make_certifications(configs["ADMIN"])
    campaigns = sdk.make_campaigns(configs["ADMIN"])
    get_cert = op(certs, "get_identity_certification")
    list_items = op(certs, "list_identity_access_review_items")
    list_items_http = op(certs, "list_identity_access_review_items", http_info=True)
    decide = op(certs, "make_identity_decision")

    def cert_now():
        return get_cert(id=cert_id)

    def undecided():
        return list_items(id=cert_id, filters="completed eq false", limit=MAX)

    # -- Reading ------------------------------------------------------------------------------
    with step("list certifications (reviewer-identity=me, every page, count=true)"):
        mine, _ = walk(op(certs, "list_identity_certifications", http_info=True), reviewer_identity="me")
        ids = [c.id for c in mine]
        check(cert_id in ids, f"{cert_id} is not among the reviewer's {len(ids)} certifications")
        check(other_cert_id not in ids, "the other reviewer's certification is listed as the reviewer's")
        check(len(set(ids)) == len(ids), "a certification is listed twice")
        check(len({c.reviewer.id for c in mine}) == 1, "certifications of several reviewers listed for me")
        only = op(certs, "list_identity_certifications")(reviewer_identity="me", filters=f'id eq "{cert_id}"')
        check([c.id for c in only] == [cert_id], f"filters id eq: {[c.id for c in only]}")

    with step("get certification"):
        cert0 = cert_now()
        check(cert0.id == cert_id, f"id {cert0.id}")
        check(cert0.phase == "ACTIVE", f"phase {cert0.phase}, expected ACTIVE")
        check(cert0.signed is None, f"signed {cert0.signed}")
        check(cert0.campaign and cert0.campaign.id, "no campaign")
        check(cert0.reviewer and cert0.reviewer.id, "no reviewer")
        check(cert0.decisions_total >= 8, f"decisionsTotal {cert0.decisions_total}: the run needs at least 8 items")
        check(cert0.decisions_total - cert0.decisions_made >= 8,
              f"only {cert0.decisions_total - cert0.decisions_made} undecided items: the run needs 8")

    with step(f"list access review items (limit {PAGE}, every page, count=true, X-Total-Count)"):
        items, total = walk(list_items_http, limit=PAGE, id=cert_id)
        check(total == cert0.decisions_total, f"X-Total-Count {total}, decisionsTotal {cert0.decisions_total}")
        check(len({i.id for i in items}) == total, "an item appears on two pages")
        for i in items:
            check(i.id and i.identity_summary and i.identity_summary.identity_id, f"item without ids: {i}")
            access = i.access_summary and i.access_summary.access
            check(access and access.type and access.id and access.name, f"item {i.id} without accessSummary.access")
        identities = {i.identity_summary.id for i in items}
        check(len(identities) >= 2, f"the items cover {len(identities)} identity: the run needs several")
        check(len(identities) == cert0.identities_total,
              f"{len(identities)} identity summaries in the items, identitiesTotal {cert0.identities_total}")
        past = list_items(id=cert_id, limit=PAGE, offset=total)
        check(past == [], f"offset at the end answered {len(past)} items")

    with step("filter completed eq false (count=true)"):
        open_items, open_total = walk(list_items_http, id=cert_id, filters="completed eq false")
        check(all(i.completed is False for i in open_items), "a completed item passed `completed eq false`")
        check(open_total == cert0.decisions_total - cert0.decisions_made,
              f"{open_total} undecided, decisionsTotal - decisionsMade = {cert0.decisions_total - cert0.decisions_made}")

    def names(i):
        return (i.access_summary.access.name, i.identity_summary.name)

    for sorters, fields, desc in (("access.name", [0], [False]),
                                  ("-identitySummary.name", [1], [True]),
                                  ("access.name,-identitySummary.name", [0, 1], [False, True])):
        with step(f"sorters {sorters}"):
            rows = [tuple(names(i)[f] for f in fields) for i in walk(list_items_http, id=cert_id, sorters=sorters)[0]]
            check(len(rows) == total, f"{len(rows)} items sorted, {total} in all")
            check(is_sorted(rows, desc), f"not in order: {rows[:12]}")

    with step("list reviewers of the certification"):
        reviewers = op(certs, "list_certification_reviewers")(id=cert_id)
        check(cert0.reviewer.id in [r.id for r in reviewers],
              f"the reviewer {cert0.reviewer.id} is not among {[r.id for r in reviewers]}")
        check(all(r.name for r in reviewers), "a reviewer without a name")

    entitlement = next((i for i in items if i.access_summary.access.type == "ENTITLEMENT"), None)
    if entitlement is None:
        notice("no ENTITLEMENT item in the certification: item permissions not checked")
    else:
        with step("get item permissions of an entitlement item"):
            perms = op(certs, "get_identity_certification_item_permissions")(
                certification_id=cert_id, item_id=entitlement.id)
            check(isinstance(perms, list), f"not a list: {perms!r}")
            check(all(isinstance(p.rights, list) and p.target for p in perms), f"malformed permissions: {perms}")

    # -- Deciding -----------------------------------------------------------------------------
    pick = [i.id for i in open_items[:6]]
    approve, revoke, sync_item, async_item = pick[:3], pick[3], pick[4], pick[5]
    decisions = [M.ReviewDecision(id=i, decision="APPROVE", bulk=True, comments="still needed") for i in approve]
    decisions.append(M.ReviewDecision(id=revoke, decision="REVOKE", bulk=False, comments="no longer needed",
                                      proposed_end_date=datetime.datetime(2031, 1, 1, tzinfo=datetime.timezone.utc)))
    with step("decide: APPROVE 3 items, REVOKE 1 with comments"):
        after = decide(id=cert_id, review_decision=decisions)
        check(after.id == cert_id, f"answered certification {after.id}")
        check(after.decisions_made == cert0.decisions_made + 4,
              f"decisionsMade {cert0.decisions_made} -> {after.decisions_made}, expected +4")
        [revoked] = list_items(id=cert_id, filters=f'id eq "{revoke}"')
        check(revoked.completed is True and revoked.decision == "REVOKE", f"the revoked item reads {revoked}")
        check(revoked.comments == "no longer needed", f"comments {revoked.comments!r}")

    with step("decide the same items again: no counter changes"):
        again = decide(id=cert_id, review_decision=decisions)
        for field in ("decisions_made", "decisions_total", "identities_completed", "identities_total"):
            check(getattr(again, field) == getattr(after, field),
                  f"{field} {getattr(after, field)} -> {getattr(again, field)}")

    # -- Reassigning --------------------------------------------------------------------------
    with step("reassign (synchronous) one ITEM with a reason"):
        body = M.ReviewReassign(reassign=[M.ReassignReference(id=sync_item, type="ITEM")],
                                reassign_to=reassign_to, reason="moved to the application owner")
        moved = op(certs, "reassign_identity_certifications")(id=cert_id, review_reassign=body)
        check(moved.id == cert_id, f"answered certification {moved.id}")
        check(moved.decisions_total == again.decisions_total - 1,
              f"decisionsTotal {again.decisions_total} -> {moved.decisions_total}, expected -1")
        check(list_items(id=cert_id, filters=f'id eq "{sync_item}"') == [], "the item is still listed")
        _, left = walk(list_items_http, id=cert_id)
        check(left == moved.decisions_total, f"X-Total-Count {left}, decisionsTotal {moved.decisions_total}")

    with step("reassign-async one ITEM: a CertificationTask of type REASSIGN"):
        body = M.ReviewReassign(reassign=[M.ReassignReference(id=async_item, type="ITEM")],
                                reassign_to=reassign_to, reason="moved asynchronously")
        task = op(certs, "submit_reassign_certs_async")(id=cert_id, review_reassign=body)
        check(task.id, "no task id")
        check(task.type == "REASSIGN", f"type {task.type}")
        check(task.target_type == "CERTIFICATION" and task.target_id == cert_id,
              f"target {task.target_type} {task.target_id}")
        check(task.status in ("QUEUED", "IN_PROGRESS", "SUCCESS"), f"status {task.status}")

    with step("list pending certification tasks (reviewer-identity=me)"):
        pending = op(certs, "get_pending_certification_tasks")(reviewer_identity="me")
        check(all(t.status in ("QUEUED", "IN_PROGRESS") for t in pending),
              f"a task that is not pending: {[(t.id, t.status) for t in pending]}")
        for_cert = op(certs, "get_pending_certification_tasks")(filters=f'targetId eq "{cert_id}"')
        check(all(t.target_id == cert_id for t in for_cert), "filters targetId eq let another task through")

    with step("poll get_certification_task until SUCCESS (60 s)"):
        deadline = time.monotonic() + 60
        while task.status != "SUCCESS":
            check(task.status != "ERROR", f"the task ended ERROR: {task.errors}")
            check(time.monotonic() < deadline, f"still {task.status} after 60 s")
            time.sleep(0.5)
            task = op(certs, "get_certification_task")(id=task.id)
            check(task.type == "REASSIGN" and task.target_id == cert_id, f"the task now reads {task}")
        check(list_items(id=cert_id, filters=f'id eq "{async_item}"') == [], "the item is still listed")

    # -- Refusals -----------------------------------------------------------------------------
    with step("count the undecided items"):
        remaining, remaining_count = walk(list_items_http, id=cert_id, filters="completed eq false")
        check(remaining, "nothing left to decide")
    with step("decide an unknown item id -> 400"):
        expect_error(400, decide, id=cert_id,
                     review_decision=[M.ReviewDecision(id=hex32(), decision="APPROVE", bulk=True, comments="x")])

    with step("decide 251 decisions -> 400 naming the limit"):
        # The SDK refuses more than 250 decisions client-side (make_identity_decision's
        # max_length=250), so the request goes through its serializer directly.
        many = [{"id": hex32(), "decision": "APPROVE", "bulk": True} for _ in range(MAX + 1)]
        text = expect_error(400, raw_call, certs, "make_identity_decision",
                            {"200": "IdentityCertificationDto", **ERRORS}, id=cert_id, review_decision=many)
        check("250" in text, f"the message does not say the limit: {text}")

    with step("reassign without a reason -> 400"):
        # ReviewReassign requires `reason` client-side; the body goes as a plain dict.
        no_reason = {"reassign": [{"id": remaining[0].id, "type": "ITEM"}], "reassignTo": reassign_to}
        expect_error(400, raw_call, certs, "reassign_identity_certifications",
                     {"200": "IdentityCertificationDto", **ERRORS}, id=cert_id, review_reassign=no_reason)

    with step("sign off while items are undecided -> 400 saying how many"):
        text = expect_error(400, op(certs, "sign_off_identity_certification"), id=cert_id)
        check(re.search(rf"\b{remaining_count}\b", text), f"the message does not say {remaining_count}: {text}")

    with step("filters on an unknown field -> 400 naming it"):
        text = expect_error(400, list_items, id=cert_id, filters='bogusField eq "x"')
        check("bogusField" in text, f"the message does not name the field: {text}")

    with step("limit 251 -> 400"):
        # The SDK checks limit <= 250 client-side; the request goes through its serializer.
        expect_error(400, raw_call, certs, "list_identity_access_review_items",
                     {"200": "List[AccessReviewItem]", **ERRORS}, id=cert_id, limit=MAX + 1, offset=None,
                     count=None, filters=None, sorters=None, entitlements=None, access_profiles=None, roles=None)

    with step("the reviewer reads the other reviewer's certification -> 403"):
        expect_error(403, get_cert, id=other_cert_id)
        expect_error(403, list_items, id=other_cert_id)

    with step("the other reviewer reads its own certification, and this one -> 403"):
        check(op(other, "get_identity_certification")(id=other_cert_id).id == other_cert_id, "wrong certification")
        expect_error(403, op(other, "get_identity_certification"), id=cert_id)

    with step("an unknown certification id -> 404"):
        expect_error(404, get_cert, id=hex32())

    # -- Finishing ----------------------------------------------------------------------------
    with step("decide every remaining item (batches of at most 250)"):
        for _ in range(1000):
            batch = undecided()
            if not batch:
                break
            decide(id=cert_id, review_decision=[
                M.ReviewDecision(id=i.id, decision="APPROVE", bulk=True, comments="reviewed") for i in batch])
        done = cert_now()
        check(done.completed is True, "completed is not true")
        check(done.decisions_made == done.decisions_total, f"{done.decisions_made} of {done.decisions_total} decided")
        check(done.identities_completed == done.identities_total,
              f"{done.identities_completed} of {done.identities_total} identities completed")

    with step("sign off -> SIGNED"):
        signed = op(certs, "sign_off_identity_certification")(id=cert_id)
        check(signed.id == cert_id and signed.phase == "SIGNED", f"phase {signed.phase}")
        check(isinstance(signed.signed, datetime.datetime), f"signed {signed.signed!r}")
        check(cert_now().phase == "SIGNED", "a later read is not SIGNED")

    with step("decide after sign-off -> 400"):
        expect_error(400, decide, id=cert_id,
                     review_decision=[M.ReviewDecision(id=approve[0], decision="REVOKE", bulk=True, comments="late")])

    # -- Administrator ------------------------------------------------------------------------
    with step("admin: list campaigns (get_active_campaigns) and get the certification's campaign"):
        listed, _ = walk(op(campaigns, "get_active_campaigns", http_info=True))
        check(cert0.campaign.id in [c.actual_instance.id for c in listed], "the campaign is not listed")
        one = op(campaigns, "get_active_campaigns")(filters=f'id eq "{cert0.campaign.id}"')
        check([c.actual_instance.id for c in one] == [cert0.campaign.id], "filters id eq")
        campaign = op(campaigns, "get_campaign")(id=cert0.campaign.id).actual_instance
        check(campaign.id == cert0.campaign.id and campaign.name, f"get_campaign read {campaign}")

    with step("admin: get any certification"):
        check(op(admin, "get_identity_certification")(id=cert_id).phase == "SIGNED", "not SIGNED for the admin")
        check(op(admin, "get_identity_certification")(id=other_cert_id).id == other_cert_id, "wrong certification")

    print(f"DONE  [{sdk.label}] the complete review passed", flush=True)
