-- The Access Workflows dialect: a campaign's items are its numbered result rows, each with a
-- sign-off of its own, optional co-reviewers, and an action log the database writes itself.
--
-- Result ids: items are generated with ids made of a per-generation prefix and a counter, in
-- order; a row's result id is its counter minus that of the campaign's first item.
ALTER TABLE campaigns
    ADD COLUMN first_item_id TEXT,
    -- who completed the campaign (an API client's or identity's id, or 'System') and whether
    -- it completed because its due date passed
    ADD COLUMN completed_by TEXT,
    ADD COLUMN expired BOOLEAN NOT NULL DEFAULT FALSE;

UPDATE campaigns SET first_item_id = m.first
FROM (SELECT campaign_id, min(id) AS first FROM review_items GROUP BY campaign_id) AS m
WHERE m.campaign_id = campaigns.id;

--   signed_off           the row's own sign-off (all rows of a SIGNED certification are)
--   fixed                a REVOKE whose removal is confirmed (remediation done, or by hand)
--   co_reviewers         JSON [{id, email, name}]: reviewers besides the one whose
--                        certification holds the item (set through the dialect); NULL: none
--   notification_status  set by a force update; NULL: derived from the remediation item
--   updated_at/by        the last change and its actor (JSON text), copied into the action log
-- signed_off and fixed are 0/1 integers, not booleans: the dialect's row expressions
-- (recert_store::awf) are shared with SQLite and compare them with 1.
ALTER TABLE review_items
    ADD COLUMN signed_off INTEGER NOT NULL DEFAULT 0 CHECK (signed_off IN (0, 1)),
    ADD COLUMN fixed INTEGER NOT NULL DEFAULT 0 CHECK (fixed IN (0, 1)),
    ADD COLUMN co_reviewers JSONB,
    ADD COLUMN notification_status TEXT,
    ADD COLUMN updated_at TIMESTAMPTZ,
    ADD COLUMN updated_by TEXT;

UPDATE review_items SET signed_off = 1
WHERE certification_id IN (SELECT id FROM certifications WHERE phase = 'SIGNED');
UPDATE review_items SET fixed = 1
WHERE decision = 'REVOKE'
  AND id IN (SELECT item_id FROM remediation_items WHERE status = 'COMPLETED');

-- The co-reviewers of review_items.co_reviewers again, to find a reviewer's rows.
CREATE TABLE item_co_reviewers (
    identity_id TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    PRIMARY KEY (identity_id, campaign_id, item_id)
);
CREATE INDEX item_co_reviewers_item ON item_co_reviewers (item_id);
CREATE INDEX item_co_reviewers_campaign ON item_co_reviewers (campaign_id);

-- Every change to a row, oldest first. Append-only: the triggers below refuse any UPDATE,
-- DELETE or TRUNCATE, whatever the code path.
CREATE TABLE item_actions (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item_id TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    -- JSON text {id, email, name}, or exactly {"name":"System"}
    actor TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN
        ('DECISION', 'NOTES', 'SIGN_OFF', 'REVIEWERS', 'FORCE_UPDATE', 'REMEDIATION')),
    -- JSON text: a string, an array of {id, email, name}, or null
    old_value TEXT,
    new_value TEXT
);
CREATE INDEX item_actions_item ON item_actions (item_id, seq);

CREATE FUNCTION item_actions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'the action log is append-only: entries are never changed';
    END IF;
    RAISE EXCEPTION 'the action log is append-only: entries are never deleted';
END;
$$;
CREATE TRIGGER item_actions_no_update BEFORE UPDATE ON item_actions
    FOR EACH ROW EXECUTE FUNCTION item_actions_append_only();
CREATE TRIGGER item_actions_no_delete BEFORE DELETE ON item_actions
    FOR EACH ROW EXECUTE FUNCTION item_actions_append_only();
CREATE TRIGGER item_actions_no_truncate BEFORE TRUNCATE ON item_actions
    FOR EACH STATEMENT EXECUTE FUNCTION item_actions_append_only();

-- A row's reviewers as the log shows them: the owner (the reviewer of its certification), then
-- its co-reviewers, each {id, email, name}.
CREATE FUNCTION item_reviewers_json(certification TEXT, co JSONB) RETURNS TEXT
LANGUAGE sql STABLE AS $$
    SELECT (coalesce(
                (SELECT jsonb_build_array(jsonb_build_object('id', c.reviewer_id,
                    'email', c.reviewer_email, 'name', c.reviewer_name))
                 FROM certifications c WHERE c.id = certification),
                '[]'::jsonb)
            || coalesce(co, '[]'::jsonb))::text
$$;

-- A row's decision in the dialect's words.
CREATE FUNCTION item_row_decision(decision TEXT, fixed INTEGER) RETURNS TEXT
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN decision IS NULL THEN 'NONE' WHEN decision = 'APPROVE' THEN 'ACCEPTED'
                WHEN fixed = 1 THEN 'FIXED' ELSE 'REJECTED' END
$$;

-- The log is written here, so that no code path can change a row without a trace: each
-- UPDATE of a row sets updated_at and updated_by, and this trigger records every field that
-- changed, in the order reviewers, decision, notes, sign-off.
CREATE FUNCTION review_items_action_log() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    o TEXT;
    n TEXT;
BEGIN
    IF OLD.certification_id IS DISTINCT FROM NEW.certification_id
       OR OLD.co_reviewers IS DISTINCT FROM NEW.co_reviewers THEN
        INSERT INTO item_actions (item_id, campaign_id, at, actor, action, old_value, new_value)
        VALUES (NEW.id, NEW.campaign_id, NEW.updated_at, NEW.updated_by, 'REVIEWERS',
            item_reviewers_json(OLD.certification_id, OLD.co_reviewers),
            item_reviewers_json(NEW.certification_id, NEW.co_reviewers));
    END IF;

    o := item_row_decision(OLD.decision, OLD.fixed);
    n := item_row_decision(NEW.decision, NEW.fixed);
    IF o IS DISTINCT FROM n THEN
        INSERT INTO item_actions (item_id, campaign_id, at, actor, action, old_value, new_value)
        VALUES (NEW.id, NEW.campaign_id, NEW.updated_at, NEW.updated_by,
            CASE WHEN NEW.updated_by = '{"name":"System"}'
                      AND OLD.decision IS NOT DISTINCT FROM NEW.decision
                 THEN 'REMEDIATION' ELSE 'DECISION' END,
            to_json(o)::text, to_json(n)::text);
    END IF;

    IF coalesce(OLD.comments, '') IS DISTINCT FROM coalesce(NEW.comments, '') THEN
        INSERT INTO item_actions (item_id, campaign_id, at, actor, action, old_value, new_value)
        VALUES (NEW.id, NEW.campaign_id, NEW.updated_at, NEW.updated_by, 'NOTES',
            to_json(coalesce(OLD.comments, ''))::text, to_json(coalesce(NEW.comments, ''))::text);
    END IF;

    IF OLD.signed_off IS DISTINCT FROM NEW.signed_off THEN
        INSERT INTO item_actions (item_id, campaign_id, at, actor, action, old_value, new_value)
        VALUES (NEW.id, NEW.campaign_id, NEW.updated_at, NEW.updated_by,
            -- undoing a sign-off is a force update, unless the row moved to another reviewer
            CASE WHEN NEW.signed_off = 0 AND OLD.certification_id = NEW.certification_id
                 THEN 'FORCE_UPDATE' ELSE 'SIGN_OFF' END,
            to_json(CASE WHEN OLD.signed_off = 1 THEN 'SIGNED_OFF' ELSE 'NOT_SIGNED_OFF' END)::text,
            to_json(CASE WHEN NEW.signed_off = 1 THEN 'SIGNED_OFF' ELSE 'NOT_SIGNED_OFF' END)::text);
    END IF;
    RETURN NULL;
END;
$$;
-- The WHEN clause spares the function call for updates that change none of the logged fields.
CREATE TRIGGER review_items_action_log
AFTER UPDATE OF certification_id, co_reviewers, decision, fixed, comments, signed_off
ON review_items FOR EACH ROW
WHEN (OLD.certification_id IS DISTINCT FROM NEW.certification_id
      OR OLD.co_reviewers IS DISTINCT FROM NEW.co_reviewers
      OR OLD.decision IS DISTINCT FROM NEW.decision
      OR OLD.fixed IS DISTINCT FROM NEW.fixed
      OR coalesce(OLD.comments, '') IS DISTINCT FROM coalesce(NEW.comments, '')
      OR OLD.signed_off IS DISTINCT FROM NEW.signed_off)
EXECUTE FUNCTION review_items_action_log();

-- Remediation done (or undone, when the access came back) marks the REVOKE row FIXED (or
-- REJECTED again), as the system.
CREATE FUNCTION remediation_items_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE review_items
    SET fixed = CASE WHEN NEW.status = 'COMPLETED' THEN 1 ELSE 0 END,
        updated_at = NEW.updated_at, updated_by = '{"name":"System"}'
    WHERE id = NEW.item_id AND decision = 'REVOKE'
      AND fixed IS DISTINCT FROM CASE WHEN NEW.status = 'COMPLETED' THEN 1 ELSE 0 END;
    RETURN NULL;
END;
$$;
CREATE TRIGGER remediation_items_fixed
AFTER UPDATE OF status ON remediation_items FOR EACH ROW
WHEN ((OLD.status = 'COMPLETED') IS DISTINCT FROM (NEW.status = 'COMPLETED'))
EXECUTE FUNCTION remediation_items_fixed();
