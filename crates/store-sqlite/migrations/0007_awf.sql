-- The Access Workflows dialect: a campaign's items are its numbered result rows, each with a
-- sign-off of its own, optional co-reviewers, and an action log the database writes itself.
--
-- Result ids: items are generated with ids made of a per-generation prefix and a counter, in
-- order; a row's result id is its counter minus that of the campaign's first item.
ALTER TABLE campaigns ADD COLUMN first_item_id TEXT;
-- who completed the campaign (an API client's or identity's id, or 'System') and whether it
-- completed because its due date passed
ALTER TABLE campaigns ADD COLUMN completed_by TEXT;
ALTER TABLE campaigns ADD COLUMN expired INTEGER NOT NULL DEFAULT 0 CHECK (expired IN (0, 1));

UPDATE campaigns SET first_item_id = m.first
FROM (SELECT campaign_id, min(id) AS first FROM review_items GROUP BY campaign_id) AS m
WHERE m.campaign_id = campaigns.id;

--   signed_off           the row's own sign-off (all rows of a SIGNED certification are)
--   fixed                a REVOKE whose removal is confirmed (remediation done, or by hand)
--   co_reviewers         JSON [{id, email, name}]: reviewers besides the one whose
--                        certification holds the item (set through the dialect); NULL: none
--   notification_status  set by a force update; NULL: derived from the remediation item
--   updated_at/by        the last change and its actor (JSON), copied into the action log
ALTER TABLE review_items ADD COLUMN signed_off INTEGER NOT NULL DEFAULT 0
    CHECK (signed_off IN (0, 1));
ALTER TABLE review_items ADD COLUMN fixed INTEGER NOT NULL DEFAULT 0 CHECK (fixed IN (0, 1));
ALTER TABLE review_items ADD COLUMN co_reviewers TEXT;
ALTER TABLE review_items ADD COLUMN notification_status TEXT;
ALTER TABLE review_items ADD COLUMN updated_at TEXT;
ALTER TABLE review_items ADD COLUMN updated_by TEXT;

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

-- Every change to a row, oldest first. Append-only: the triggers below refuse any UPDATE or
-- DELETE, whatever the code path.
CREATE TABLE item_actions (
    seq INTEGER PRIMARY KEY,
    item_id TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    at TEXT NOT NULL,
    -- JSON {id, email, name}, or {"name":"System"}
    actor TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN
        ('DECISION', 'NOTES', 'SIGN_OFF', 'REVIEWERS', 'FORCE_UPDATE', 'REMEDIATION')),
    -- JSON: a string, an array of {id, email, name}, or null
    old_value TEXT,
    new_value TEXT
);
CREATE INDEX item_actions_item ON item_actions (item_id, seq);

CREATE TRIGGER item_actions_no_update BEFORE UPDATE ON item_actions
BEGIN
    SELECT RAISE(ABORT, 'the action log is append-only: entries are never changed');
END;
CREATE TRIGGER item_actions_no_delete BEFORE DELETE ON item_actions
BEGIN
    SELECT RAISE(ABORT, 'the action log is append-only: entries are never deleted');
END;

-- The log is written here, so that no code path can change a row without a trace: each
-- UPDATE of a row sets updated_at and updated_by, and this trigger records every field that
-- changed, in the order reviewers, decision, notes, sign-off.
CREATE TRIGGER review_items_action_log
AFTER UPDATE OF certification_id, co_reviewers, decision, fixed, comments, signed_off ON review_items
BEGIN
    INSERT INTO item_actions (item_id, campaign_id, at, actor, action, old_value, new_value)
    SELECT NEW.id, NEW.campaign_id, NEW.updated_at, NEW.updated_by, 'REVIEWERS',
        (SELECT json_group_array(json(v)) FROM (
            SELECT json_object('id', c.reviewer_id, 'email', c.reviewer_email,
                'name', c.reviewer_name) AS v
            FROM certifications c WHERE c.id = OLD.certification_id
            UNION ALL SELECT value FROM json_each(coalesce(OLD.co_reviewers, '[]')))),
        (SELECT json_group_array(json(v)) FROM (
            SELECT json_object('id', c.reviewer_id, 'email', c.reviewer_email,
                'name', c.reviewer_name) AS v
            FROM certifications c WHERE c.id = NEW.certification_id
            UNION ALL SELECT value FROM json_each(coalesce(NEW.co_reviewers, '[]'))))
    WHERE OLD.certification_id IS NOT NEW.certification_id
       OR OLD.co_reviewers IS NOT NEW.co_reviewers;

    INSERT INTO item_actions (item_id, campaign_id, at, actor, action, old_value, new_value)
    SELECT NEW.id, NEW.campaign_id, NEW.updated_at, NEW.updated_by,
        CASE WHEN NEW.updated_by = '{"name":"System"}' AND OLD.decision IS NEW.decision
             THEN 'REMEDIATION' ELSE 'DECISION' END,
        json_quote(o), json_quote(n)
    FROM (SELECT
        CASE WHEN OLD.decision IS NULL THEN 'NONE' WHEN OLD.decision = 'APPROVE' THEN 'ACCEPTED'
             WHEN OLD.fixed = 1 THEN 'FIXED' ELSE 'REJECTED' END AS o,
        CASE WHEN NEW.decision IS NULL THEN 'NONE' WHEN NEW.decision = 'APPROVE' THEN 'ACCEPTED'
             WHEN NEW.fixed = 1 THEN 'FIXED' ELSE 'REJECTED' END AS n)
    WHERE o IS NOT n;

    INSERT INTO item_actions (item_id, campaign_id, at, actor, action, old_value, new_value)
    SELECT NEW.id, NEW.campaign_id, NEW.updated_at, NEW.updated_by, 'NOTES',
        json_quote(coalesce(OLD.comments, '')), json_quote(coalesce(NEW.comments, ''))
    WHERE coalesce(OLD.comments, '') IS NOT coalesce(NEW.comments, '');

    INSERT INTO item_actions (item_id, campaign_id, at, actor, action, old_value, new_value)
    SELECT NEW.id, NEW.campaign_id, NEW.updated_at, NEW.updated_by,
        -- undoing a sign-off is a force update, unless the row moved to another reviewer
        CASE WHEN NEW.signed_off = 0 AND OLD.certification_id IS NEW.certification_id
             THEN 'FORCE_UPDATE' ELSE 'SIGN_OFF' END,
        json_quote(CASE WHEN OLD.signed_off = 1 THEN 'SIGNED_OFF' ELSE 'NOT_SIGNED_OFF' END),
        json_quote(CASE WHEN NEW.signed_off = 1 THEN 'SIGNED_OFF' ELSE 'NOT_SIGNED_OFF' END)
    WHERE OLD.signed_off IS NOT NEW.signed_off;
END;

-- Remediation done (or undone, when the access came back) marks the REVOKE row FIXED (or
-- REJECTED again), as the system.
CREATE TRIGGER remediation_items_fixed AFTER UPDATE OF status ON remediation_items
WHEN (OLD.status = 'COMPLETED') IS NOT (NEW.status = 'COMPLETED')
BEGIN
    UPDATE review_items SET fixed = (NEW.status = 'COMPLETED'), updated_at = NEW.updated_at,
        updated_by = '{"name":"System"}'
    WHERE id = NEW.item_id AND decision = 'REVOKE'
      AND fixed IS NOT (NEW.status = 'COMPLETED');
END;
