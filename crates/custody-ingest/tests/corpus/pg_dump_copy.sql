--
-- PostgreSQL database dump
--
COPY public.members (id, email, first_name, last_name, postcode) FROM stdin;
1	alex@example.org	Alex	Smith	LS1 4AB
2	\N	Bo	Li	M1 1AE
3	sam@example.com	Sam	Pa\ttel	\N
\.
