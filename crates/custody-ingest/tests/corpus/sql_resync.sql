--
-- PostgreSQL database dump
--
CREATE TABLE public.members (id integer, email text, note text);
-- a note with a `backtick` does not make this MySQL
INSERT INTO public.members (id, email, note) VALUES (1, 'alex@example.org', 'C:\');
INSERT INTO public.members (id, email, note) VALUES (2, 'bo@example.org', 'it''s
two lines');
INSERT INTO public.members (id, email, note) VALUES (3, 'sam@example.com', 'never closed);


INSERT INTO public.members (id, email, note) VALUES (4, 'zoe@example.org', 'fine') ON CONFLICT DO NOTHING;
