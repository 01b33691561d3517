// Package platform runs the deployments of Cubit projects on one node: it starts, stops and
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
// The instances themselves live in this process: which node serves which deployment (routing
// between nodes) is not decided here.
package platform
