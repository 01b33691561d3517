package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/cubit-dev/cubit/examples/demo"
	"github.com/cubit-dev/cubit/internal/adminapi"
	"github.com/cubit-dev/cubit/internal/config"
	"github.com/cubit-dev/cubit/internal/deploy"
	"github.com/cubit-dev/cubit/internal/engine"
	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/platform"
	"github.com/cubit-dev/cubit/internal/store"
	"github.com/cubit-dev/cubit/internal/warehouse"
)

// DemoProject is the project the platform makes on its first start, on the embedded demo
// shop, so that a new node has a deployment to show.
const DemoProject = "demo"

// Node is the platform of one cubit serve: its store, control plane and admin API. Give
// it to New in Options.Node.
type Node struct {
	store   *store.Store
	runtime *deploy.Runtime
	plat    *platform.Platform
	limiter *platform.Limiter
	admin   *adminapi.API
	// engines counts the platform's engines; the server registers it and uses it for the
	// default deployment too.
	engines *engine.Metrics
	// adminToken is the owner token generated on this start, printed once; "" when
	// CUBIT_ADMIN_TOKEN is set or one was generated before.
	adminToken string
	// server is the server the node serves in, set by New: a rotated SQL password closes
	// its sessions.
	server atomic.Pointer[Server]
}

// Platform is the node's control plane.
func (n *Node) Platform() *platform.Platform { return n.plat }

// AdminToken is the owner token this start generated ("" when none was).
func (n *Node) AdminToken() string { return n.adminToken }

// OpenNode opens the platform's store in the data directory (or the shared PostgreSQL
// store), makes the admin token and the demo project on a first start, and builds the
// node. Close releases it.
func OpenNode(ctx context.Context, cfg config.Config, logger *slog.Logger, opts ...NodeOption) (*Node, error) {
	pc := cfg.Platform
	if err := os.MkdirAll(pc.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the data directory %s: %w", pc.DataDir, err)
	}
	dsn := pc.Store
	if dsn == "" {
		dsn = filepath.Join(pc.DataDir, "cubit.db")
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	n, err := newNode(ctx, st, cfg, logger, opts)
	if err != nil {
		st.Close()
		return nil, err
	}
	return n, nil
}

// NodeOption changes how OpenNode builds a node.
type NodeOption func(*deploy.Options)

// WithDemo makes the platform's demo environment serve w, the demo shop the default
// deployment holds, instead of loading its own copy; the node never closes w.
func WithDemo(w warehouse.Warehouse) NodeOption {
	return func(o *deploy.Options) { o.Demo = w }
}

func newNode(ctx context.Context, st *store.Store, cfg config.Config, logger *slog.Logger, opts []NodeOption) (*Node, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	pc := cfg.Platform
	key, err := platform.LoadKey(pc.DataDir, pc.SecretKey)
	if err != nil {
		return nil, err
	}
	sealer, err := platform.NewSealer(key)
	if err != nil {
		return nil, err
	}
	admins := platform.NewAdmins(st, nil)
	token, err := admins.Bootstrap(ctx, pc.AdminToken)
	if err != nil {
		return nil, err
	}
	starter, err := fs.Sub(demo.Model, "model")
	if err != nil {
		return nil, err
	}
	metrics := engine.NewMetrics(nil)
	dopt := deploy.Options{Logger: logger, RollupSchema: cfg.RollupSchema, Engine: engine.Config{
		Metrics:                         metrics,
		PreAggregationTimezones:         cfg.RollupTimezones,
		DefaultLimit:                    cfg.DefaultLimit,
		MaxLimit:                        cfg.MaxLimit,
		DefaultTimezone:                 cfg.DefaultTimezone,
		AllowUngroupedWithoutPrimaryKey: cfg.AllowUngroupedWithoutPrimaryKey,
	}}
	for _, o := range opts {
		o(&dopt)
	}
	rt := deploy.NewRuntime(dopt)
	n := &Node{store: st, runtime: rt, limiter: platform.NewLimiter(nil), adminToken: token, engines: metrics}
	keeper := platform.NewKeeper(platform.KeeperOptions{Store: st, Sealer: sealer})
	plat := platform.NewPlatform(platform.PlatformOptions{
		Store:   st,
		DataDir: pc.DataDir,
		Starter: starter,
		Runtime: rt,
		Keeper:  keeper,
		Sealer:  sealer,
		Disconnect: func(username string) {
			if srv := n.server.Load(); srv != nil {
				srv.DisconnectSQL(username, "the password of this user was rotated")
			}
		},
		HeartbeatInterval: pc.Heartbeat,
		Logger:            logger,
	})
	n.plat = plat
	n.admin = adminapi.New(adminapi.Options{Platform: plat, Admins: admins, Logger: logger})
	if err := n.bootstrapDemo(ctx); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// bootstrapDemo makes the demo environment and project on a store that has no project
// yet. Another node doing the same at the same moment is not an error.
func (n *Node) bootstrapDemo(ctx context.Context) error {
	projects, err := n.store.ListProjects(ctx)
	if err != nil || len(projects) > 0 {
		return err
	}
	system := platform.Actor{Name: "cubit", Address: "local"}
	_, err = n.plat.CreateEnvironment(ctx, system, platform.EnvironmentInput{
		Name: DemoProject, Type: store.EnvironmentDuckDB, Settings: json.RawMessage(`{"demo": true}`)})
	if err != nil && !isConflict(err) {
		return fmt.Errorf("creating the demo environment: %w", err)
	}
	_, err = n.plat.CreateProject(ctx, system, platform.ProjectInput{
		Name: DemoProject, Repository: store.Repository{Type: store.RepositoryManaged},
		Environment: DemoProject, Deployment: json.RawMessage(`{"mode": "always_on"}`)})
	if err != nil && !isConflict(err) {
		return fmt.Errorf("creating the demo project: %w", err)
	}
	return nil
}

func isConflict(err error) bool { return errs.KindOf(err) == errs.KindConflict }

// Close releases what the node holds, after the server has stopped.
func (n *Node) Close() {
	_ = n.plat.Close()
	_ = n.runtime.Close()
	_ = n.store.Close()
}

// Banner prints the admin API's address, and the admin token when this start made it.
// caFile, when not "", is the self-signed certificate curl must trust.
func (n *Node) Banner(w io.Writer, addr net.Addr, https bool, caFile string) {
	scheme, cacert := "http://", ""
	if https {
		scheme = "https://"
	}
	if caFile != "" {
		cacert = fmt.Sprintf("--cacert '%s' ", caFile)
	}
	fmt.Fprintf(w, "Platform:\n\n  Web UI     %s%s/\n  Admin API  %s%s/api/v1\n", scheme, addr, scheme, addr)
	if n.adminToken != "" {
		fmt.Fprintf(w, "  Admin token (shown once; keep it)  %s\n", n.adminToken)
	}
	fmt.Fprintf(w, "  Credentials of the demo deployment:\n    curl -s %s-H 'Authorization: Bearer <admin token>' %s%s/api/v1/projects/%s/branches/main/credentials\n\n",
		cacert, scheme, addr, DemoProject)
}
