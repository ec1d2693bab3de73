--
-- PostgreSQL database dump
--
SET statement_timeout = 0;
CREATE TABLE public.members (
    id integer NOT NULL,
    email text,
    phone text,
    note text
);
INSERT INTO public.members (id, email, phone, note) VALUES (1, 'alex@example.org', '0113 496 0000', 'it''s fine');
INSERT INTO public.members (id, email, phone, note) VALUES (2, 'bo@example.org', NULL, E'tab\there');
INSERT INTO public.members VALUES (3, 'sam@example.com', '', 'multi
line');
