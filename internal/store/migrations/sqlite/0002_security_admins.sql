-- Security settings of deployments and the admin tokens. Keep in step with
-- migrations/postgres/0002_security_admins.sql: only byte types differ.

-- Keyed by project and branch rather than by deployment: settings may be made before the
-- branch is first deployed, and they survive a deployment being deleted and made again.
-- They go with their project (ON DELETE CASCADE) and follow it when it is renamed.
CREATE TABLE deployment_security (
    project_id  BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    branch      TEXT NOT NULL,
    settings    TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (project_id, branch)
);

-- An admin token is found by its public id and checked against the SHA-256 of the whole
-- token; the token itself is shown once, when it is made, and never stored.
CREATE TABLE admin_tokens (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    token_hash  BLOB NOT NULL,
    created_at  BIGINT NOT NULL
);
