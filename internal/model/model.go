package model

import "sort"

// Model is a loaded and validated set of cubes and views.
type Model struct {
	// Cubes holds cubes and views in the order of their files (sorted by path) and of their
	// definitions within a file.
	Cubes  []*Cube
	byName map[string]*Cube
}

// New indexes cubes into a Model. The loader calls it; tests may build models by hand.
func New(cubes []*Cube) *Model {
	m := &Model{Cubes: cubes, byName: make(map[string]*Cube, len(cubes))}
	for _, c := range cubes {
		if _, dup := m.byName[c.Name]; !dup {
			m.byName[c.Name] = c
		}
		c.index()
	}
	return m
}

// Cube returns the cube or view called name, or nil.
func (m *Model) Cube(name string) *Cube { return m.byName[name] }

// CubeNames returns the names of every cube and view, sorted.
func (m *Model) CubeNames() []string {
	names := make([]string, 0, len(m.Cubes))
	for _, c := range m.Cubes {
		names = append(names, c.Name)
	}
	sort.Strings(names)
	return names
}

// MemberNames returns "cube.member" for every measure, dimension and segment of the model,
// for suggestions.
func (m *Model) MemberNames() []string {
	var names []string
	for _, c := range m.Cubes {
		for _, n := range c.MemberNames() {
			names = append(names, c.Name+"."+n)
		}
	}
	return names
}

// index builds the member lookup tables of c and sets the back references of its members.
func (c *Cube) index() {
	c.measures = make(map[string]*Measure, len(c.Measures))
	c.dimensions = make(map[string]*Dimension, len(c.Dimensions))
	c.segments = make(map[string]*Segment, len(c.Segments))
	for _, m := range c.Measures {
		m.Cube = c
		c.measures[m.Name] = m
	}
	for _, d := range c.Dimensions {
		d.Cube = c
		c.dimensions[d.Name] = d
	}
	for _, s := range c.Segments {
		s.Cube = c
		c.segments[s.Name] = s
	}
	for _, j := range c.Joins {
		j.From = c
	}
}

// Measure returns the measure called name, or nil.
func (c *Cube) Measure(name string) *Measure { return c.measures[name] }

// Dimension returns the dimension called name, or nil.
func (c *Cube) Dimension(name string) *Dimension { return c.dimensions[name] }

// Segment returns the segment called name, or nil.
func (c *Cube) Segment(name string) *Segment { return c.segments[name] }

// HasMember reports whether c has a measure, dimension or segment called name.
func (c *Cube) HasMember(name string) bool {
	return c.Measure(name) != nil || c.Dimension(name) != nil || c.Segment(name) != nil
}

// MemberNames returns the names of c's measures, dimensions and segments, in that order.
func (c *Cube) MemberNames() []string {
	names := make([]string, 0, len(c.Measures)+len(c.Dimensions)+len(c.Segments))
	for _, m := range c.Measures {
		names = append(names, m.Name)
	}
	for _, d := range c.Dimensions {
		names = append(names, d.Name)
	}
	for _, s := range c.Segments {
		names = append(names, s.Name)
	}
	return names
}

// PrimaryKeys returns c's primary-key dimensions in definition order.
func (c *Cube) PrimaryKeys() []*Dimension {
	var pks []*Dimension
	for _, d := range c.Dimensions {
		if d.PrimaryKey {
			pks = append(pks, d)
		}
	}
	return pks
}

// Join returns c's join to the cube called target, or nil.
func (c *Cube) Join(target string) *Join {
	for _, j := range c.Joins {
		if j.Name == target {
			return j
		}
	}
	return nil
}
