-- Schema version 5: a supplier's desk account or API token, bound to its supplier (and only a
-- supplier's is).
ALTER TABLE accounts DROP CONSTRAINT accounts_role_check;
ALTER TABLE accounts ADD COLUMN supplier BIGINT REFERENCES suppliers(id);
ALTER TABLE accounts ADD CONSTRAINT accounts_role_check
    CHECK (role IN ('admin', 'responder', 'viewer', 'supplier'));
ALTER TABLE accounts ADD CONSTRAINT accounts_supplier_bound CHECK ((role = 'supplier') = (supplier IS NOT NULL));
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_role_check;
ALTER TABLE api_tokens ADD COLUMN supplier BIGINT REFERENCES suppliers(id);
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_role_check
    CHECK (role IN ('admin', 'responder', 'viewer', 'supplier'));
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_supplier_bound
    CHECK ((role = 'supplier') = (supplier IS NOT NULL));
