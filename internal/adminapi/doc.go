// Package adminapi is the platform's admin API: JSON over HTTP under /api/v1, guarded by
// admin tokens with roles (owner, editor, viewer). It serves environments, projects,
// branches and model files, deployment status and lifecycle, credentials and their
// rotation, security settings, the audit log and the admin tokens themselves.
//
// It translates HTTP to calls on platform.Platform and errors to statuses (one function,
// writeError); the decisions are the platform's. It never imports the compiler or the
// query APIs (restapi, sqlapi).
package adminapi
