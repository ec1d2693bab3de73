-- Schema version 8: the organisation's requests that a supplier delete a share's data (UK GDPR
-- and EU GDPR Art. 28(3)(g)), by when, and the note the supplier gave when it confirmed (the
-- confirmation itself is the share's deleted_at). One request per share; it is never removed.
CREATE TABLE share_deletion_requests (
    share BIGINT PRIMARY KEY REFERENCES shares(id),
    asked_at BIGINT NOT NULL,
    due_at BIGINT NOT NULL,
    reason TEXT NOT NULL,
    note TEXT
);
CREATE FUNCTION custody_deletion_request_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'a deletion request is never removed' USING ERRCODE = 'restrict_violation';
    END IF;
    IF (NEW.share, NEW.asked_at, NEW.due_at, NEW.reason) IS DISTINCT FROM
       (OLD.share, OLD.asked_at, OLD.due_at, OLD.reason) THEN
        RAISE EXCEPTION 'a deletion request is kept as it was made' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER share_deletion_requests_kept BEFORE UPDATE OR DELETE ON share_deletion_requests FOR EACH ROW
    EXECUTE FUNCTION custody_deletion_request_kept();
CREATE TRIGGER share_deletion_requests_never_truncated BEFORE TRUNCATE ON share_deletion_requests
    FOR EACH STATEMENT EXECUTE FUNCTION custody_append_only();
