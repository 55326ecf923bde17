"""A complete certification review through SailPoint's official Python SDK 2.x (PyPI
`sailpoint`, pinned in tests/sdk/requirements-v1.txt), whose per-API clients call
/certifications/v1/..., /certification-tasks/v1/... and /campaigns/v1/...

SDK classes used (configuration: sailpoint.configuration.Configuration with base_url,
client_id, client_secret; the token comes from POST base_url + /oauth/token):
  sailpoint.certifications.ApiClient (URL = base_url + path; no version prefix added)
  sailpoint.certifications.CertificationsApi
    list_identity_certifications_v1[_with_http_info] GET  /certifications/v1
    get_identity_certification_v1                    GET  /certifications/v1/{id}
    list_identity_access_review_items_v1[_with_http_info]
                                                     GET  /certifications/v1/{id}/access-review-items
    list_certification_reviewers_v1                  GET  /certifications/v1/{id}/reviewers
    get_identity_certification_item_permissions_v1   GET  /certifications/v1/{certificationId}/access-review-items/{itemId}/permissions
    make_identity_decision_v1                        POST /certifications/v1/{id}/decide
    reassign_identity_certifications_v1              POST /certifications/v1/{id}/reassign
    submit_reassign_certs_async_v1                   POST /certifications/v1/{id}/reassign-async
    sign_off_identity_certification_v1               POST /certifications/v1/{id}/sign-off
    get_pending_certification_tasks_v1               GET  /certification-tasks/v1
    get_certification_task_v1                        GET  /certification-tasks/v1/{id}
    _make_identity_decision_v1_serialize, _reassign_identity_certifications_v1_serialize,
    _list_identity_access_review_items_v1_serialize (+ api_client.call_api / response_deserialize)
        for the three requests the SDK refuses client-side (251 decisions, no reason, limit 251)
  sailpoint.certification_campaigns.ApiClient, .CertificationCampaignsApi
    get_active_campaigns_v1[_with_http_info]         GET  /campaigns/v1
    get_campaign_v1                                  GET  /campaigns/v1/{id}
  sailpoint.certifications models: ReviewDecision, ReviewReassign, ReassignReference, ErrorResponseDto
  sailpoint.certifications.ApiException, sailpoint.certification_campaigns.ApiException

Run by tests/sdk/run.sh; the steps are in common.py.
"""

from importlib.metadata import version
from types import SimpleNamespace

from sailpoint import certification_campaigns, certifications
from sailpoint.certifications import ErrorResponseDto, ReassignReference, ReviewDecision, ReviewReassign

import common

if __name__ == "__main__":
    common.main(common.Sdk(
        label=f"python sailpoint=={version('sailpoint')} /certifications/v1",
        suffix="_v1",
        make_certifications=lambda config: certifications.CertificationsApi(certifications.ApiClient(config)),
        make_campaigns=lambda config: certification_campaigns.CertificationCampaignsApi(
            certification_campaigns.ApiClient(config)),
        models=SimpleNamespace(ReviewDecision=ReviewDecision, ReviewReassign=ReviewReassign,
                               ReassignReference=ReassignReference, ErrorResponseDto=ErrorResponseDto),
        exceptions=(certifications.ApiException, certification_campaigns.ApiException),
    ))
