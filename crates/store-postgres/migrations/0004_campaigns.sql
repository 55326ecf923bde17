-- Campaigns, their certifications (one per reviewer) and review items, plus what surrounds them:
-- templates and schedules, tasks, reports, remediation.
--
-- Review items are a snapshot: the names and attributes of what was reviewed are copied at
-- generation into campaign_identities / campaign_access (one row per thing per campaign, not
-- per item) and, for accounts (as many as grants), into the items themselves, so a later
-- import never rewrites a review's history.
-- Generated rows get ids made of a per-generation time-ordered prefix and a counter, so that
-- millions of items are inserted in key order.

CREATE TABLE campaign_templates (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    owner_id TEXT,
    deadline_duration TEXT,
    -- JSON: the campaign the template generates (name and description may hold placeholders)
    campaign JSONB NOT NULL,
    -- JSON Schedule, or NULL when not scheduled
    schedule JSONB,
    -- the next due occurrence of the schedule
    next_run_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    modified_at TIMESTAMPTZ
);
CREATE INDEX campaign_templates_due ON campaign_templates (next_run_at)
    WHERE next_run_at IS NOT NULL;

CREATE TABLE campaigns (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT,
    type TEXT NOT NULL,
    status TEXT NOT NULL,
    correlated_status TEXT NOT NULL,
    deadline TIMESTAMPTZ,
    email_notification_enabled BOOLEAN NOT NULL,
    auto_revoke_allowed BOOLEAN NOT NULL,
    recommendations_enabled BOOLEAN NOT NULL,
    sunset_comments_required BOOLEAN NOT NULL,
    mandatory_comment_requirement TEXT NOT NULL,
    -- JSON: the type's own options as given (sourceOwnerCampaignInfo, searchCampaignInfo, ...)
    config JSONB NOT NULL,
    -- JSON array of CampaignAlert
    alerts JSONB NOT NULL DEFAULT '[]',
    template_id TEXT,
    created_by TEXT,
    total_certifications BIGINT NOT NULL DEFAULT 0,
    completed_certifications BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL,
    modified_at TIMESTAMPTZ NOT NULL,
    -- when the certifications were generated: "new access" is access first seen after this
    generated_at TIMESTAMPTZ,
    activated_at TIMESTAMPTZ,
    completed_at TIMESTAMPTZ
);
CREATE INDEX campaigns_created ON campaigns (created_at);
CREATE INDEX campaigns_template ON campaigns (template_id, status);

CREATE TABLE certifications (
    id TEXT PRIMARY KEY,
    campaign_id TEXT NOT NULL REFERENCES campaigns (id),
    name TEXT NOT NULL,
    reviewer_id TEXT NOT NULL,
    reviewer_name TEXT NOT NULL,
    reviewer_email TEXT,
    phase TEXT NOT NULL CHECK (phase IN ('STAGED', 'ACTIVE', 'SIGNED')),
    due TIMESTAMPTZ,
    signed_at TIMESTAMPTZ,
    decisions_made BIGINT NOT NULL DEFAULT 0,
    decisions_total BIGINT NOT NULL,
    identities_completed BIGINT NOT NULL DEFAULT 0,
    identities_total BIGINT NOT NULL,
    -- set when the certification came from a reassignment
    reassigned_from_id TEXT,
    reassigned_from_name TEXT,
    reassigned_from_reviewer_id TEXT,
    reassigned_from_reviewer_name TEXT,
    reassigned_from_reviewer_email TEXT,
    reassignment_comment TEXT,
    error_message TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    modified_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX certifications_campaign ON certifications (campaign_id);
CREATE INDEX certifications_reviewer ON certifications (reviewer_id);

-- One row per (certification, reviewed identity): the identity summary and its progress.
-- In a ROLE_COMPOSITION campaign the reviewed subject is a role.
CREATE TABLE certification_subjects (
    id TEXT PRIMARY KEY,
    certification_id TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    name TEXT NOT NULL,
    items_total BIGINT NOT NULL,
    items_decided BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX certification_subjects_key ON certification_subjects (certification_id, subject_id);

CREATE TABLE review_items (
    id TEXT PRIMARY KEY,
    certification_id TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    summary_id TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    access_type TEXT NOT NULL
        CHECK (access_type IN ('ENTITLEMENT', 'ACCESS_PROFILE', 'ROLE', 'ACCOUNT')),
    access_id TEXT NOT NULL,
    account_id TEXT,
    -- the grant reviewed (NULL for what a role contains, and for uncorrelated accounts)
    assignment_id TEXT,
    -- the account as it was at generation (kept in the item: accounts are as many as grants)
    account_name TEXT,
    account_native_identity TEXT,
    account_source_id TEXT,
    account_disabled BOOLEAN,
    account_locked BOOLEAN,
    new_access BOOLEAN NOT NULL,
    decision TEXT CHECK (decision IN ('APPROVE', 'REVOKE')),
    comments TEXT,
    proposed_end_date TIMESTAMPTZ,
    decided_by TEXT,
    decided_at TIMESTAMPTZ
);
CREATE INDEX review_items_certification ON review_items (certification_id, subject_id);

CREATE TABLE campaign_identities (
    campaign_id TEXT NOT NULL,
    identity_id TEXT NOT NULL,
    name TEXT NOT NULL,
    display_name TEXT NOT NULL,
    email TEXT,
    manager_id TEXT,
    active BOOLEAN NOT NULL,
    lifecycle_state TEXT,
    attributes JSONB NOT NULL,
    PRIMARY KEY (campaign_id, identity_id)
);

CREATE TABLE campaign_access (
    campaign_id TEXT NOT NULL,
    access_type TEXT NOT NULL,
    access_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    privileged BOOLEAN NOT NULL,
    source_id TEXT,
    source_name TEXT,
    source_type TEXT,
    attribute_name TEXT,
    attribute_value TEXT,
    owner_id TEXT,
    owner_name TEXT,
    owner_email TEXT,
    -- JSON array of {"rights", "target"} (entitlements)
    permissions JSONB NOT NULL DEFAULT '[]',
    -- JSON: the entitlements (and, for roles, access profiles) it bundles
    contents JSONB NOT NULL DEFAULT '{}',
    PRIMARY KEY (campaign_id, access_type, access_id)
);

CREATE TABLE certification_tasks (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    target_type TEXT NOT NULL CHECK (target_type IN ('CERTIFICATION', 'CAMPAIGN')),
    target_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('QUEUED', 'IN_PROGRESS', 'SUCCESS', 'ERROR')),
    -- JSON array of ErrorMessageDto
    errors JSONB NOT NULL DEFAULT '[]',
    -- JSON array of ReassignmentTrailDTO
    reassignment_trails JSONB NOT NULL DEFAULT '[]',
    -- JSON: what the task was asked to do
    request JSONB NOT NULL DEFAULT '{}',
    requested_by TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX certification_tasks_target ON certification_tasks (target_id);

CREATE TABLE campaign_reports (
    id TEXT PRIMARY KEY,
    campaign_id TEXT NOT NULL,
    report_type TEXT NOT NULL,
    status TEXT NOT NULL,
    row_count BIGINT NOT NULL DEFAULT 0,
    error TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    last_run_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX campaign_reports_key ON campaign_reports (campaign_id, report_type);

-- A report's CSV in pieces of about a megabyte, streamed out in seq order.
CREATE TABLE report_chunks (
    report_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (report_id, seq)
);

CREATE TABLE remediation_items (
    id TEXT PRIMARY KEY,
    item_id TEXT NOT NULL UNIQUE,
    campaign_id TEXT NOT NULL,
    certification_id TEXT NOT NULL,
    identity_id TEXT NOT NULL,
    access_type TEXT NOT NULL,
    access_id TEXT NOT NULL,
    account_id TEXT,
    assignment_id TEXT,
    status TEXT NOT NULL CHECK (status IN ('OPEN', 'IN_PROGRESS', 'COMPLETED', 'FAILED')),
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ,
    last_error TEXT,
    external_ref TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    delivered_at TIMESTAMPTZ,
    completed_at TIMESTAMPTZ
);
CREATE INDEX remediation_items_campaign ON remediation_items (campaign_id, status);
CREATE INDEX remediation_items_due ON remediation_items (next_attempt_at)
    WHERE status = 'OPEN';
CREATE INDEX remediation_items_assignment ON remediation_items (assignment_id);

-- Small settings that are data, not configuration (campaign report columns, ...).
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    -- JSON
    value JSONB NOT NULL
);
