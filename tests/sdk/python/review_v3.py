"""A complete certification review through SailPoint's official Python SDK 1.4.2 (PyPI
`sailpoint==1.4.2`, tests/sdk/requirements-v3.txt), whose clients call the /v3/... paths.

SDK classes used (configuration: sailpoint.configuration.Configuration with base_url,
client_id, client_secret; the token comes from POST base_url + /oauth/token):
  sailpoint.v3.api_client.ApiClient (URL = base_url + "/v3" + path)
  sailpoint.v3.api.certifications_api.CertificationsApi
    list_identity_certifications[_with_http_info]   GET  /v3/certifications
    get_identity_certification                      GET  /v3/certifications/{id}
    list_identity_access_review_items[_with_http_info]
                                                    GET  /v3/certifications/{id}/access-review-items
    list_certification_reviewers                    GET  /v3/certifications/{id}/reviewers
    get_identity_certification_item_permissions     GET  /v3/certifications/{certificationId}/access-review-items/{itemId}/permissions
    make_identity_decision                          POST /v3/certifications/{id}/decide
    reassign_identity_certifications                POST /v3/certifications/{id}/reassign
    submit_reassign_certs_async                     POST /v3/certifications/{id}/reassign-async
    sign_off_identity_certification                 POST /v3/certifications/{id}/sign-off
    get_pending_certification_tasks                 GET  /v3/certification-tasks
    get_certification_task                          GET  /v3/certification-tasks/{id}
    _make_identity_decision_serialize, _reassign_identity_certifications_serialize,
    _list_identity_access_review_items_serialize (+ api_client.call_api / response_deserialize)
        for the three requests the SDK refuses client-side (251 decisions, no reason, limit 251)
  sailpoint.v3.api.certification_campaigns_api.CertificationCampaignsApi
    get_active_campaigns[_with_http_info]           GET  /v3/campaigns
    get_campaign                                    GET  /v3/campaigns/{id}
  sailpoint.v3.models: ReviewDecision, ReviewReassign, ReassignReference, ErrorResponseDto
  sailpoint.v3.exceptions.ApiException (BadRequestException, ForbiddenException, ...)

Run by tests/sdk/run.sh; the steps are in common.py.
"""

from importlib.metadata import version
from types import SimpleNamespace

from sailpoint.v3.api.certification_campaigns_api import CertificationCampaignsApi
from sailpoint.v3.api.certifications_api import CertificationsApi
from sailpoint.v3.api_client import ApiClient
from sailpoint.v3.exceptions import ApiException
from sailpoint.v3.models import ErrorResponseDto, ReassignReference, ReviewDecision, ReviewReassign

import common

if __name__ == "__main__":
    common.main(common.Sdk(
        label=f"python sailpoint=={version('sailpoint')} /v3",
        suffix="",
        make_certifications=lambda config: CertificationsApi(ApiClient(config)),
        make_campaigns=lambda config: CertificationCampaignsApi(ApiClient(config)),
        models=SimpleNamespace(ReviewDecision=ReviewDecision, ReviewReassign=ReviewReassign,
                               ReassignReference=ReassignReference, ErrorResponseDto=ErrorResponseDto),
        exceptions=(ApiException,),
    ))
