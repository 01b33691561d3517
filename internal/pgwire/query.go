package pgwire

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"
)

// isEmptyQuery reports whether sql holds no statement at all, which PostgreSQL answers
// with EmptyQueryResponse rather than a parse.
func isEmptyQuery(sql string) bool {
	return strings.Trim(sql, " \t\r\n\f;") == ""
}

// simpleQuery runs a Query message: every statement of the string in turn, each with its
// RowDescription, DataRows and CommandComplete; the first error ends the string. A
// ReadyForQuery always follows.
func (c *conn) simpleQuery(sql string) error {
	// As in PostgreSQL, a simple query replaces the unnamed statement and portal.
	c.dropPortal("")
	delete(c.stmts, "")

	if !utf8.ValidString(sql) {
		if err := c.sendError(errEncoding()); err != nil {
			return err
		}
		return c.readyForQuery()
	}
	if isEmptyQuery(sql) {
		c.send(&pgproto3.EmptyQueryResponse{})
		return c.readyForQuery()
	}
	ctx, cancel := context.WithCancelCause(c.ctx)
	end := c.begin(cancel)
	stmts, err := c.sess.PrepareAll(ctx, sql)
	end()
	if err != nil {
		e := c.statementError(err, ctx)
		cancel(nil)
		if err := c.sendError(e); err != nil {
			return err
		}
		return c.readyForQuery()
	}
	cancel(nil)
	if len(stmts) == 0 {
		c.send(&pgproto3.EmptyQueryResponse{})
	}
	failed := false
	for _, st := range stmts {
		if st == nil {
			continue
		}
		p := &portal{
			stmt:    &prepared{st: st, paramTypes: st.ParamTypes(), columns: st.Columns()},
			formats: make([]int16, len(st.Columns())),
		}
		p.ctx, p.cancel = context.WithCancelCause(c.ctx)
		ok, err := c.runPortal(p, 0, true)
		p.close()
		if err != nil {
			return err
		}
		if !ok {
			failed = true
			break
		}
	}
	c.sess.EndQuery(failed)
	return c.readyForQuery()
}

// parse handles Parse: the statement is prepared by the session and kept under its name;
// the unnamed statement is replaced.
func (c *conn) parse(m *pgproto3.Parse) error {
	if m.Name != "" {
		if _, ok := c.stmts[m.Name]; ok {
			return c.extError(&Error{Code: "42P05", Message: fmt.Sprintf("prepared statement %q already exists", m.Name)})
		}
	}
	if m.Name == "" {
		// The old unnamed statement is gone even if the new one fails to parse.
		delete(c.stmts, "")
	}
	if !utf8.ValidString(m.Query) {
		return c.extError(errEncoding())
	}
	ps := &prepared{name: m.Name}
	if !isEmptyQuery(m.Query) {
		ctx, cancel := context.WithCancelCause(c.ctx)
		end := c.begin(cancel)
		st, err := c.sess.Prepare(ctx, m.Query, append([]uint32(nil), m.ParameterOIDs...))
		end()
		if err != nil {
			e := c.statementError(err, ctx)
			cancel(nil)
			return c.extError(e)
		}
		cancel(nil)
		if st != nil { // nil: a statement of comments only, like an empty query
			ps.st, ps.paramTypes, ps.columns = st, st.ParamTypes(), st.Columns()
		}
	}
	c.stmts[m.Name] = ps
	c.send(&pgproto3.ParseComplete{})
	return nil
}

// bind handles Bind: the parameters are decoded by their types and formats, the result
// formats checked, and the portal kept under its name; the unnamed portal is replaced.
func (c *conn) bind(m *pgproto3.Bind) error {
	ps, ok := c.stmts[m.PreparedStatement]
	if !ok {
		return c.extError(noStatement(m.PreparedStatement))
	}
	if m.DestinationPortal != "" {
		if _, ok := c.portals[m.DestinationPortal]; ok {
			return c.extError(&Error{Code: "42P03", Message: fmt.Sprintf("portal %q already exists", m.DestinationPortal)})
		}
	} else {
		c.dropPortal("")
	}
	if len(m.Parameters) != len(ps.paramTypes) {
		return c.extError(protocolError(fmt.Sprintf("bind message supplies %d parameters, but prepared statement %q requires %d",
			len(m.Parameters), ps.name, len(ps.paramTypes))))
	}
	pf := m.ParameterFormatCodes
	if len(pf) > 1 && len(pf) != len(m.Parameters) {
		return c.extError(protocolError(fmt.Sprintf("bind message has %d parameter formats but %d parameters", len(pf), len(m.Parameters))))
	}
	params := make([]any, len(m.Parameters))
	for i, raw := range m.Parameters {
		format := int16(0)
		if len(pf) == 1 {
			format = pf[0]
		} else if len(pf) > 1 {
			format = pf[i]
		}
		v, err := c.enc.decodeParam(ps.paramTypes[i], format, raw)
		if err != nil {
			if e, ok := err.(*Error); ok && e.Detail == "" {
				e.Detail = fmt.Sprintf("In bind parameter $%d.", i+1)
			}
			return c.extError(c.classify(err, nil))
		}
		params[i] = v
	}
	formats, ferr := resultFormats(m.ResultFormatCodes, ps.columns)
	if ferr == nil {
		ferr = c.enc.checkFormats(ps.columns, formats)
	}
	if ferr != nil {
		return c.extError(ferr)
	}
	p := &portal{name: m.DestinationPortal, stmt: ps, params: params, formats: formats}
	p.ctx, p.cancel = context.WithCancelCause(c.ctx)
	c.portals[p.name] = p
	c.send(&pgproto3.BindComplete{})
	return nil
}

// resultFormats spreads Bind's result format codes over the columns: none means text,
// one applies to all.
func resultFormats(codes []int16, cols []Column) ([]int16, *Error) {
	formats := make([]int16, len(cols))
	switch {
	case len(codes) == 0:
	case len(codes) == 1:
		for i := range formats {
			formats[i] = codes[0]
		}
	case len(codes) == len(cols):
		copy(formats, codes)
	default:
		return nil, protocolError(fmt.Sprintf("bind message has %d result formats but query has %d columns", len(codes), len(cols)))
	}
	for _, f := range formats {
		if f != pgtype.TextFormatCode && f != pgtype.BinaryFormatCode {
			return nil, &Error{Code: "22023", Message: fmt.Sprintf("unsupported format code: %d", f)}
		}
	}
	return formats, nil
}

// describe handles Describe of a statement (ParameterDescription, then RowDescription or
// NoData) or of a portal (RowDescription with its formats, or NoData).
func (c *conn) describe(m *pgproto3.Describe) error {
	switch m.ObjectType {
	case 'S':
		ps, ok := c.stmts[m.Name]
		if !ok {
			return c.extError(noStatement(m.Name))
		}
		oids := make([]uint32, len(ps.paramTypes))
		for i, t := range ps.paramTypes {
			if t == 0 {
				t = pgtype.TextOID
			}
			oids[i] = t
		}
		c.send(&pgproto3.ParameterDescription{ParameterOIDs: oids})
		c.sendRowDescription(ps.columns, make([]int16, len(ps.columns)))
	case 'P':
		p, ok := c.portals[m.Name]
		if !ok {
			return c.extError(noPortal(m.Name))
		}
		c.sendRowDescription(p.stmt.columns, p.formats)
	default:
		return c.extError(protocolError(fmt.Sprintf("invalid DESCRIBE message subtype %d", m.ObjectType)))
	}
	return nil
}

func (c *conn) sendRowDescription(cols []Column, formats []int16) {
	if cols == nil {
		c.send(&pgproto3.NoData{})
		return
	}
	fields := make([]pgproto3.FieldDescription, len(cols))
	for i, col := range cols {
		fields[i] = pgproto3.FieldDescription{
			Name:                 []byte(cstring(col.Name)),
			TableOID:             col.TableOID,
			TableAttributeNumber: col.Attr,
			DataTypeOID:          col.Type,
			DataTypeSize:         typeSize(col.Type),
			TypeModifier:         -1,
			Format:               formats[i],
		}
	}
	c.send(&pgproto3.RowDescription{Fields: fields})
}

// execute handles Execute: it runs the portal, or resumes it, for at most MaxRows rows.
func (c *conn) execute(m *pgproto3.Execute) error {
	p, ok := c.portals[m.Portal]
	if !ok {
		return c.extError(noPortal(m.Portal))
	}
	ok, err := c.runPortal(p, int(m.MaxRows), false)
	if err != nil {
		return err
	}
	if !ok {
		c.dropPortal(p.name)
		c.skipTillSync = true
		return c.flush()
	}
	return nil
}

// runPortal runs or resumes portal p: rows up to maxRows (0: all), then CommandComplete, or
// PortalSuspended when maxRows were sent. describe sends the RowDescription first (the
// simple protocol). It reports false when the statement failed (the error is sent), and
// an error when the connection must end.
func (c *conn) runPortal(p *portal, maxRows int, describe bool) (bool, error) {
	end := c.begin(p.cancel)
	defer end()
	if p.stmt.st == nil {
		c.send(&pgproto3.EmptyQueryResponse{})
		return true, nil
	}
	if p.done {
		c.send(&pgproto3.CommandComplete{CommandTag: []byte(cstring(p.tag))})
		return true, nil
	}
	if p.rows == nil {
		rows, err := p.stmt.st.Execute(p.ctx, p.params)
		if err != nil {
			return false, c.sendError(c.statementError(err, p.ctx))
		}
		if rows == nil {
			rows = Done("")
		}
		p.rows = rows
		if describe && p.stmt.columns != nil {
			c.sendRowDescription(p.stmt.columns, p.formats)
		}
	}
	cols := p.stmt.columns
	for n := 0; maxRows <= 0 || n < maxRows; n++ {
		if p.ctx.Err() != nil {
			return false, c.sendError(c.statementError(p.ctx.Err(), p.ctx))
		}
		vals, ok := p.rows.Next()
		if !ok {
			if err := p.rows.Err(); err != nil {
				return false, c.sendError(c.statementError(err, p.ctx))
			}
			if d, ok := p.rows.(Deallocation); ok {
				if err := c.deallocate(d.Deallocate()); err != nil {
					p.rows.Close()
					return false, c.sendError(err)
				}
			}
			p.done, p.tag = true, p.rows.Tag()
			p.rows.Close()
			c.send(&pgproto3.CommandComplete{CommandTag: []byte(cstring(p.tag))})
			return true, nil
		}
		row, err := c.enc.row(cols, p.formats, vals)
		if err != nil {
			return false, c.sendError(c.statementError(err, p.ctx))
		}
		c.send(&pgproto3.DataRow{Values: row})
		c.pending += c.enc.size
		if c.pending >= flushThreshold {
			if err := c.flush(); err != nil {
				return false, err
			}
		}
	}
	c.send(&pgproto3.PortalSuspended{})
	return true, nil
}

// closeMsg handles Close of a statement or a portal; closing one that does not exist is
// not an error.
func (c *conn) closeMsg(m *pgproto3.Close) error {
	switch m.ObjectType {
	case 'S':
		delete(c.stmts, m.Name)
	case 'P':
		c.dropPortal(m.Name)
	default:
		return c.extError(protocolError(fmt.Sprintf("invalid CLOSE message subtype %d", m.ObjectType)))
	}
	c.send(&pgproto3.CloseComplete{})
	return nil
}

// deallocate drops the prepared statement name, or all of them (DEALLOCATE); a name that
// is not prepared is an error, as in PostgreSQL.
func (c *conn) deallocate(name string, all bool) *Error {
	if all {
		clear(c.stmts)
		return nil
	}
	if !c.isPrepared(name) {
		return noStatement(name)
	}
	delete(c.stmts, name)
	return nil
}

// isPrepared reports whether a statement named name is prepared.
func (c *conn) isPrepared(name string) bool {
	_, ok := c.stmts[name]
	return ok
}

func (c *conn) dropPortal(name string) {
	if p, ok := c.portals[name]; ok {
		p.close()
		delete(c.portals, name)
	}
}

func noStatement(name string) *Error {
	if name == "" {
		return &Error{Code: "26000", Message: "unnamed prepared statement does not exist"}
	}
	return &Error{Code: "26000", Message: fmt.Sprintf("prepared statement %q does not exist", name)}
}

func noPortal(name string) *Error {
	return &Error{Code: "34000", Message: fmt.Sprintf("portal %q does not exist", name)}
}
