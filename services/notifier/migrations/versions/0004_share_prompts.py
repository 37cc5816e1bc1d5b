"""Notifier: the prompt 是否接受镜像 (N1-N3). The pending offers of each recipient, each
recipient's prompt (changed since its last version? when may the next go out?), and the
prompt as a notice of its own in the account's inbox (one per account, no image; unread first).
"""

from services.common.migrate import SqlStep

SHARE_PROMPTS = SqlStep(
    create="""
    CREATE TABLE prompt_offers (
        membership_id       uuid PRIMARY KEY,
        account_id          uuid NOT NULL,  -- the recipient
        image_id            uuid NOT NULL,
        image_name          text NOT NULL,
        owner_account_id    uuid NOT NULL,
        owner_account_name  text NOT NULL,
        offered_at          timestamptz NOT NULL
    );
    CREATE INDEX prompt_offers_of_account
        ON prompt_offers (account_id, offered_at DESC, membership_id DESC);

    -- Each recipient's prompt: whether its offers changed since its last version, and
    -- when the next version may go out. A burst of offers (or answers) to one account
    -- makes one version a second at most, not one message each; the first goes at once.
    CREATE TABLE prompts (
        account_id      uuid PRIMARY KEY,
        changed         boolean NOT NULL,
        grew            boolean NOT NULL,  -- an offer arrived: unread again
        due_at          timestamptz NOT NULL,
        published_at    timestamptz,
        correlation_id  uuid,
        causation_id    uuid
    );
    CREATE INDEX prompts_due ON prompts (due_at) WHERE changed;
    CREATE FUNCTION prompts_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify(TG_TABLE_SCHEMA || '_prompts', '');
        RETURN NULL;
    END $$;
    CREATE TRIGGER prompt_changed AFTER INSERT OR UPDATE ON prompts
        FOR EACH ROW WHEN (NEW.changed) EXECUTE FUNCTION prompts_notify();

    ALTER TABLE notices
        ALTER COLUMN image_id DROP NOT NULL,
        ADD COLUMN updated_at timestamptz,
        ADD COLUMN body jsonb;
    UPDATE notices SET updated_at = created_at;
    ALTER TABLE notices ALTER COLUMN updated_at SET NOT NULL;
    -- (image_id, kind) stays unique for capture notices; a prompt has no image.
    CREATE UNIQUE INDEX notices_one_prompt ON notices (account_id) WHERE kind = 'share_prompt';
    DROP INDEX notices_inbox;
    CREATE INDEX notices_inbox ON notices (account_id, (read_at IS NOT NULL), updated_at DESC);
    """,
    drop="""
    DELETE FROM notices WHERE kind = 'share_prompt';
    DROP INDEX notices_inbox;
    CREATE INDEX notices_inbox ON notices (account_id, created_at DESC);
    DROP INDEX notices_one_prompt;
    ALTER TABLE notices DROP COLUMN body, DROP COLUMN updated_at,
        ALTER COLUMN image_id SET NOT NULL;
    DROP TRIGGER prompt_changed ON prompts;
    DROP FUNCTION prompts_notify();
    DROP TABLE prompts;
    DROP TABLE prompt_offers;
    """,
)

revision, down_revision = "0004", "0003"
upgrade, downgrade = SHARE_PROMPTS.upgrade, SHARE_PROMPTS.downgrade
