package plan

import (
	"fmt"
	"strings"

	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/model"
)

// JoinTree is the set of cubes a query reads and the joins between them: Root LEFT JOIN
// each edge in order. Every edge's From is the root or the To of an earlier edge.
type JoinTree struct {
	Root  *model.Cube
	Edges []*Edge
}

// Edge joins To into the tree through a join declared on From (or, when Reversed, declared
// on To towards From, which only view paths allow).
type Edge struct {
	From, To *model.Cube
	Join     *model.Join
	Reversed bool
}

// Relationship is the cardinality of the edge seen from From to To.
func (e *Edge) Relationship() model.Relationship {
	if !e.Reversed {
		return e.Join.Relationship
	}
	switch e.Join.Relationship {
	case model.OneToMany:
		return model.ManyToOne
	case model.ManyToOne:
		return model.OneToMany
	}
	return e.Join.Relationship
}

// Cubes returns the cubes of the tree, root first, in join order.
func (t *JoinTree) Cubes() []*model.Cube {
	cubes := []*model.Cube{t.Root}
	for _, e := range t.Edges {
		cubes = append(cubes, e.To)
	}
	return cubes
}

// String is the path in the form cubit sql prints: "orders -> users (many_to_one)".
func (t *JoinTree) String() string {
	if len(t.Edges) == 0 {
		return t.Root.Name
	}
	parts := make([]string, len(t.Edges))
	for i, e := range t.Edges {
		parts[i] = fmt.Sprintf("%s -> %s (%s)", e.From.Name, e.To.Name, e.Relationship())
	}
	return strings.Join(parts, ", ")
}

func (t *JoinTree) has(c *model.Cube) bool {
	if t.Root == c {
		return true
	}
	for _, e := range t.Edges {
		if e.To == c {
			return true
		}
	}
	return false
}

// addPath adds the joins along cubes (a view's join path or a join hint); the first cube
// must already be in the tree.
func (t *JoinTree) addPath(m *model.Model, cubes []string) error {
	for i := 1; i < len(cubes); i++ {
		from, to := m.Cube(cubes[i-1]), m.Cube(cubes[i])
		if from == nil || to == nil {
			return errs.Invalid("join path %s names an unknown cube", strings.Join(cubes, "."))
		}
		if t.has(to) {
			continue
		}
		e := &Edge{From: from, To: to, Join: from.Join(to.Name)}
		if e.Join == nil {
			e.Join, e.Reversed = to.Join(from.Name), true
		}
		if e.Join == nil {
			return errs.Invalid("join path %s: cube %s has no join to %s", strings.Join(cubes, "."), from.Name, to.Name)
		}
		t.Edges = append(t.Edges, e)
	}
	return nil
}

// bfs is a shortest-path search over declared joins from one root.
type bfs struct {
	parent    map[*model.Cube]*model.Join
	dist      map[*model.Cube]int
	ambiguous map[*model.Cube][]*model.Join // cubes reachable by two shortest paths
}

func search(root *model.Cube, m *model.Model) *bfs {
	s := &bfs{
		parent:    map[*model.Cube]*model.Join{},
		dist:      map[*model.Cube]int{root: 0},
		ambiguous: map[*model.Cube][]*model.Join{},
	}
	frontier := []*model.Cube{root}
	for len(frontier) > 0 {
		var next []*model.Cube
		for _, c := range frontier {
			for _, j := range c.Joins {
				to := m.Cube(j.Name)
				if to == nil {
					continue
				}
				d, seen := s.dist[to]
				switch {
				case !seen:
					s.dist[to] = s.dist[c] + 1
					s.parent[to] = j
					next = append(next, to)
				case d == s.dist[c]+1 && s.parent[to].From != c:
					s.ambiguous[to] = append(s.ambiguous[to], j)
				}
			}
		}
		frontier = next
	}
	return s
}

// treeTo builds the tree from the search's root to every target. It fails when a target
// cannot be reached. A target reached by two equally short paths still gets a tree (the
// first path found), with the ambiguity returned beside it: whether that is an error
// depends on whether this tree is the one chosen.
func (s *bfs) treeTo(root *model.Cube, targets []*model.Cube) (tree *JoinTree, ambiguity, err error) {
	need := map[*model.Cube]bool{}
	var order []*model.Cube
	for _, t := range targets {
		if _, ok := s.dist[t]; !ok {
			return nil, nil, fmt.Errorf("no join path from %s to %s", root.Name, t.Name)
		}
		for c := t; c != root; c = s.parent[c].From {
			if alt := s.ambiguous[c]; len(alt) > 0 && ambiguity == nil {
				ambiguity = errs.Invalid("ambiguous join path from %s to %s: through %s or %s; pick one with joinHints or a view",
					root.Name, t.Name, s.parent[c].From.Name, alt[0].From.Name)
			}
			if !need[c] {
				need[c] = true
				order = append(order, c)
			}
		}
	}
	// Join nearer cubes first so every edge's From is already in the tree.
	tree = &JoinTree{Root: root}
	for d := 1; len(tree.Edges) < len(order); d++ {
		for _, c := range order {
			if s.dist[c] == d {
				tree.Edges = append(tree.Edges, &Edge{From: s.parent[c].From, To: c, Join: s.parent[c]})
			}
		}
	}
	return tree, ambiguity, nil
}

// buildTree chooses the join tree for the cubes a query needs (in the order of spec E.2:
// measures, dimensions, segments, filters, time dimensions). Views and join hints fix their
// paths; otherwise each cube in turn is tried as the root and the smallest tree wins, ties
// going to the earliest cube. When the winning tree reaches a cube by two equally short
// paths, that is an error, never a guess; so is a set of cubes no root can join.
func buildTree(m *model.Model, cubes []*model.Cube, paths [][]string) (*JoinTree, error) {
	if len(paths) > 0 {
		tree := &JoinTree{Root: m.Cube(paths[0][0])}
		for _, p := range paths {
			if m.Cube(p[0]) != tree.Root && !tree.has(m.Cube(p[0])) {
				return nil, errs.Invalid("join paths %s and %s do not start from the same cube", strings.Join(paths[0], "."), strings.Join(p, "."))
			}
			if err := tree.addPath(m, p); err != nil {
				return nil, err
			}
		}
		return extend(m, tree, cubes)
	}
	var best *JoinTree
	var bestAmbiguity error
	for _, root := range cubes {
		tree, ambiguity, err := search(root, m).treeTo(root, cubes)
		if err != nil {
			continue
		}
		if best == nil || len(tree.Edges) < len(best.Edges) {
			best, bestAmbiguity = tree, ambiguity
		}
	}
	if bestAmbiguity != nil {
		return nil, bestAmbiguity
	}
	if best != nil {
		return best, nil
	}
	names := make([]string, len(cubes))
	for i, c := range cubes {
		names[i] = "'" + c.Name + "'"
	}
	return nil, errs.Invalid("Can't find join path to join %s", strings.Join(names, ", "))
}

// extend adds to a fixed tree the shortest paths to cubes it does not hold yet.
func extend(m *model.Model, tree *JoinTree, cubes []*model.Cube) (*JoinTree, error) {
	var missing []*model.Cube
	for _, c := range cubes {
		if !tree.has(c) {
			missing = append(missing, c)
		}
	}
	for _, c := range missing {
		var added bool
		for _, from := range tree.Cubes() {
			s := search(from, m)
			if _, ok := s.dist[c]; !ok {
				continue
			}
			sub, ambiguity, err := s.treeTo(from, []*model.Cube{c})
			if err == nil {
				err = ambiguity
			}
			if err != nil {
				return nil, err
			}
			for _, e := range sub.Edges {
				if !tree.has(e.To) {
					tree.Edges = append(tree.Edges, e)
				}
			}
			added = true
			break
		}
		if !added {
			return nil, errs.Invalid("Can't find join path to join '%s' from the view path starting at '%s'", c.Name, tree.Root.Name)
		}
	}
	return tree, nil
}

// Multiplied returns the cubes of the tree whose rows some join duplicates: an edge that is
// one-to-many from its From side multiplies every cube on that side, and one that is
// many-to-one multiplies every cube on its To side.
func (t *JoinTree) Multiplied() map[*model.Cube]bool {
	out := map[*model.Cube]bool{}
	for i, e := range t.Edges {
		below := t.subtree(i)
		for _, c := range t.Cubes() {
			onToSide := below[c]
			switch e.Relationship() {
			case model.OneToMany:
				if !onToSide {
					out[c] = true
				}
			case model.ManyToOne:
				if onToSide {
					out[c] = true
				}
			}
		}
	}
	return out
}

// subtree is the set of cubes reached through edge i (its To and everything joined below).
func (t *JoinTree) subtree(i int) map[*model.Cube]bool {
	in := map[*model.Cube]bool{t.Edges[i].To: true}
	for _, e := range t.Edges[i+1:] {
		if in[e.From] {
			in[e.To] = true
		}
	}
	return in
}
