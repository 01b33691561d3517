// Package gitrepo is the Git side of Cubit projects: it creates, clones and opens one
// project's repository in the data directory, lists and creates branches, reads and writes
// model files on any branch (each write is one commit), and hands out a branch head's tree as
// a read-only fs.FS for the model compiler together with its commit hash, the model version.
//
// Repositories are bare: nothing is ever checked out, so a write to a branch builds the new
// tree from that branch's tree, stores the blob and trees, commits and moves the ref. There is
// no worktree to drift from the refs, and any branch can be written without switching to it.
//
// A managed repository's first commit on main holds the starter model under model/, so the
// cubes of a starter are model/cubes/*.yml and Snapshot's fs.Sub(snap, "model") is the model
// directory.
//
// The package is mechanical: which branches are protected, who may write and which
// repository belongs to which project are the platform's policy, not this package's. It uses
// go-git only (it never runs the git binary) and imports nothing from Cubit but errs: no
// engine, API or store.
package gitrepo
