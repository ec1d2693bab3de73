-- Schema version 2: a share's person set is never changed once recorded (holdings, and the sets
-- a connection keeps, rely on it).
CREATE TRIGGER share_chunks_append_only BEFORE UPDATE OR DELETE ON share_chunks FOR EACH ROW
    EXECUTE FUNCTION custody_append_only();
CREATE TRIGGER share_chunks_never_truncated BEFORE TRUNCATE ON share_chunks FOR EACH STATEMENT
    EXECUTE FUNCTION custody_append_only();
