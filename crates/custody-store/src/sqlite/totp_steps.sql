-- Schema version 7: the last TOTP time step each account signed in with, so that a code is
-- never accepted twice, even across a restart of the desk.
ALTER TABLE accounts ADD COLUMN totp_last_step INTEGER;
