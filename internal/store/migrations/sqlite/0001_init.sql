-- The first platform slice. Times are microseconds since the Unix epoch (BIGINT); JSON is
-- TEXT validated by the store; secrets are BLOBs sealed by the platform before they arrive.
-- Keep in step with migrations/postgres/0001_init.sql: only key and byte types differ.

CREATE TABLE environments (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    type        TEXT NOT NULL CHECK (type IN ('duckdb', 'postgres')),
    settings    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- Separate from environments so that no query that lists or reads environments can
-- return a secret by accident: only EnvironmentSecrets reads this table.
CREATE TABLE environment_secrets (
    environment_id  BIGINT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    value           BLOB NOT NULL,
    PRIMARY KEY (environment_id, name)
);

CREATE TABLE projects (
    id                  INTEGER PRIMARY KEY,
    name                TEXT NOT NULL UNIQUE,
    repo_type           TEXT NOT NULL CHECK (repo_type IN ('managed', 'imported')),
    repo_url            TEXT NOT NULL,
    environment_id      BIGINT NOT NULL REFERENCES environments (id) ON DELETE RESTRICT,
    deployment          TEXT NOT NULL,
    protected_branches  TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);

CREATE TABLE deployments (
    id            INTEGER PRIMARY KEY,
    project_id    BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    branch        TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('PENDING', 'RUNNING', 'STOPPED', 'ERROR')),
    error         TEXT NOT NULL,
    version       TEXT NOT NULL,
    since         BIGINT NOT NULL,
    heartbeat_at  BIGINT,
    created_at    BIGINT NOT NULL,
    UNIQUE (project_id, branch)
);

CREATE TABLE credentials (
    deployment_id          BIGINT PRIMARY KEY REFERENCES deployments (id) ON DELETE CASCADE,
    sql_username           TEXT NOT NULL UNIQUE,
    sql_database           TEXT NOT NULL,
    sql_password_verifier  TEXT NOT NULL,
    sql_password_sealed    BLOB NOT NULL,
    rest_token_id          TEXT NOT NULL UNIQUE,
    rest_token_hash        BLOB NOT NULL,
    rest_token_sealed      BLOB NOT NULL,
    rest_token_expires_at  BIGINT NOT NULL,
    created_at             BIGINT NOT NULL,
    rotated_at             BIGINT NOT NULL
);

CREATE TABLE audit (
    id       INTEGER PRIMARY KEY,
    at       BIGINT NOT NULL,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    target   TEXT NOT NULL,
    address  TEXT NOT NULL,
    details  TEXT NOT NULL
);
CREATE INDEX audit_at ON audit (at);

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
