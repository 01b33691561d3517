// Package platform is Cubit's control plane. Platform (service.go) is its face for the admin
// API: environments (data-source settings, secrets sealed with the operator's key: seal.go),
// projects and their Git repositories, branches, model files (a write that would break the
// model is refused), deployments' lifecycle, credentials (Keeper: SCRAM verifiers, hashed
// tokens, shown again only while RUNNING: credentials.go), security settings and the rate
// limiter (security.go, limiter.go), admin tokens and roles (admins.go), and the audit log
// of every change. Who may call what is the API's decision.
//
// The Manager runs the deployments of Cubit projects on one node: it starts, stops and
// restarts the deployment of a (project, branch), keeps its status in the store, checks each
// running deployment's data source on a heartbeat, wakes on-demand deployments on their first
// request and stops them when idle, and hands the instance serving now to the request paths
// with reference counting, so that an instance is closed only after its last user is done.
//
// It builds nothing itself: a Runtime, implemented by the server with the engine, compiles a
// branch snapshot's model into an Instance. platform never imports the compiler or the APIs
// (engine, model, query, plan, sqlgen, restapi, sqlapi); it knows store and gitrepo only.
//
// Every state change is written to the store, so another node and a restarted one see it.
// The instances themselves live in each process. Several nodes may share one store (and one
// data directory, for the repositories and the sealing key); each runs its own instances,
// and Manager.Reconcile, on every heartbeat, makes it follow the states the others write.
// So every node serves every running always_on or scheduled deployment, and an on_demand
// one on the nodes that get its requests (its idle timeout counts per node); a start,
// restart, stop or deletion made through one node reaches the others within one heartbeat
// interval. Which node a client reaches is the load balancer's choice, not this package's.
package platform
