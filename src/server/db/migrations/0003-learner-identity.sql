-- Who a learner is beyond a display name, and what they may do. AUTH=oidc learners are found by
-- their identity at the provider (issuer and `sub`); their `name` (the AUTH=dev sign-in key) is
-- `oidc:ISSUER#SUB`, unique like every key. Conventions as in 0001-learners.sql; JSON is TEXT.

-- From the provider's email claim; null for AUTH=dev learners.
ALTER TABLE learners ADD COLUMN email TEXT;
-- JSON array of the group names in the provider's groups claim at the last sign-in (teams in reports).
ALTER TABLE learners ADD COLUMN member_of TEXT NOT NULL DEFAULT '[]';
-- JSON array of roles (instructor, admin) granted at the last sign-in.
ALTER TABLE learners ADD COLUMN roles TEXT NOT NULL DEFAULT '[]';
ALTER TABLE learners ADD COLUMN issuer TEXT;
ALTER TABLE learners ADD COLUMN subject TEXT;

CREATE UNIQUE INDEX learners_identity ON learners (issuer, subject);

-- The provider's ID token of an AUTH=oidc session, sent back as id_token_hint when signing out there.
ALTER TABLE sessions ADD COLUMN id_token TEXT;
