// Package store is the platform's persistence: environments, projects, deployments,
// credentials, security settings, admin tokens and the audit log, in embedded SQLite (the default, one file in the data
// directory) or in PostgreSQL (so several Cubit nodes share one control plane).
//
// It owns the platform's schema and its numbered migrations (migrations/<dialect>/NNNN_*.sql,
// embedded, applied once each in their own transaction). It stores what the platform hands it
// and decides nothing about it: secrets arrive already sealed (encrypted by the platform with
// the operator's key) or already hashed, and the store never sees a key or a plaintext.
//
// It must not import the engine, the APIs or the model; only internal/errs from Cubit.
package store
