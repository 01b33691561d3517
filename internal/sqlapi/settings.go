package sqlapi

import (
	"sort"
	"strings"
	"time"
)

// settingDef is a run-time parameter PostgreSQL clients expect to find.
type settingDef struct {
	name  string // PostgreSQL's spelling, used as SHOW's column name
	value string
	// report sends the parameter with ParameterStatus (PostgreSQL 15's list).
	report bool
	// readOnly parameters cannot be SET.
	readOnly bool
	desc     string
}

// settingDefs are the parameters a session starts with: a PostgreSQL 15 server's.
var settingDefs = []settingDef{
	{name: "application_name", report: true, desc: "Sets the application name to be reported in statistics and logs."},
	{name: "client_encoding", value: "UTF8", report: true, desc: "Sets the client's character set encoding."},
	{name: "DateStyle", value: "ISO, MDY", report: true, desc: "Sets the display format for date and time values."},
	{name: "default_transaction_read_only", value: "off", report: true, desc: "Sets the default read-only status of new transactions."},
	{name: "in_hot_standby", value: "off", report: true, readOnly: true, desc: "Shows whether hot standby is currently active."},
	{name: "integer_datetimes", value: "on", report: true, readOnly: true, desc: "Shows whether datetimes are integer based."},
	{name: "IntervalStyle", value: "postgres", report: true, desc: "Sets the display format for interval values."},
	{name: "is_superuser", value: "off", report: true, readOnly: true, desc: "Shows whether the current user is a superuser."},
	{name: "server_encoding", value: "UTF8", report: true, readOnly: true, desc: "Shows the server (database) character set encoding."},
	{name: "server_version", value: serverVersion, report: true, readOnly: true, desc: "Shows the server version."},
	{name: "session_authorization", report: true, desc: "Sets the session user name."},
	{name: "standard_conforming_strings", value: "on", report: true, desc: "Causes '...' strings to treat backslashes literally."},
	{name: "TimeZone", value: "UTC", report: true, desc: "Sets the time zone for displaying and interpreting time stamps."},

	{name: "server_version_num", value: "150000", readOnly: true, desc: "Shows the server version as an integer."},
	{name: "search_path", value: `"$user", public`, desc: "Sets the schema search order for names that are not schema-qualified."},
	{name: "extra_float_digits", value: "1", desc: "Sets the number of digits displayed for floating-point values."},
	{name: "max_identifier_length", value: "63", readOnly: true, desc: "Shows the maximum identifier length."},
	{name: "max_index_keys", value: "32", readOnly: true, desc: "Shows the maximum number of index keys."},
	{name: "block_size", value: "8192", readOnly: true, desc: "Shows the size of a disk block."},
	{name: "lc_collate", value: "en_US.UTF-8", readOnly: true, desc: "Shows the collation order locale."},
	{name: "lc_ctype", value: "en_US.UTF-8", readOnly: true, desc: "Shows the character classification and case conversion locale."},
	{name: "lc_messages", value: "en_US.UTF-8", desc: "Sets the language in which messages are displayed."},
	{name: "lc_monetary", value: "en_US.UTF-8", desc: "Sets the locale for formatting monetary amounts."},
	{name: "lc_numeric", value: "en_US.UTF-8", desc: "Sets the locale for formatting numbers."},
	{name: "lc_time", value: "en_US.UTF-8", desc: "Sets the locale for formatting date and time values."},
	{name: "transaction_isolation", value: "read committed", desc: "Sets the current transaction's isolation level."},
	{name: "default_transaction_isolation", value: "read committed", desc: "Sets the transaction isolation level of each new transaction."},
	{name: "transaction_read_only", value: "off", desc: "Sets the current transaction's read-only status."},
	{name: "transaction_deferrable", value: "off", desc: "Whether to defer a read-only serializable transaction until it can be executed with no possible serialization failures."},
	{name: "default_transaction_deferrable", value: "off", desc: "Sets the default deferrable status of new transactions."},
	{name: "statement_timeout", value: "0", desc: "Sets the maximum allowed duration of any statement."},
	{name: "lock_timeout", value: "0", desc: "Sets the maximum allowed duration of any wait for a lock."},
	{name: "idle_in_transaction_session_timeout", value: "0", desc: "Sets the maximum allowed idle time between queries, when in a transaction."},
	{name: "client_min_messages", value: "notice", desc: "Sets the message levels that are sent to the client."},
	{name: "bytea_output", value: "hex", desc: "Sets the output format for bytea."},
	{name: "timezone_abbreviations", value: "Default", desc: "Selects a file of time zone abbreviations."},
	{name: "row_security", value: "on", desc: "Enable row security."},
	{name: "max_connections", value: "1024", readOnly: true, desc: "Sets the maximum number of concurrent connections."},
	{name: "ssl", value: "off", readOnly: true, desc: "Enables SSL connections."},
	{name: "jit", value: "off", desc: "Allow JIT compilation."},
}

var settingIndex = func() map[string]*settingDef {
	m := map[string]*settingDef{}
	for i := range settingDefs {
		m[strings.ToLower(settingDefs[i].name)] = &settingDefs[i]
	}
	return m
}()

// setting is a session's value of one parameter.
type setting struct {
	name  string
	value string
}

// settings are a session's run-time parameters, by lower-case name.
type settings map[string]setting

func defaultSettings(user string) settings {
	s := settings{}
	for _, d := range settingDefs {
		s[strings.ToLower(d.name)] = setting{d.name, d.value}
	}
	s["session_authorization"] = setting{"session_authorization", user}
	return s
}

func (s settings) clone() settings {
	out := make(settings, len(s))
	for k, v := range s {
		out[k] = v
	}
	return out
}

func (s settings) get(name string) (setting, bool) {
	v, ok := s[strings.ToLower(name)]
	return v, ok
}

// set changes a parameter after checking its value the way PostgreSQL does for the
// parameters whose values the SQL API depends on.
func (s settings) set(name, value string) error {
	key := strings.ToLower(name)
	def := settingIndex[key]
	if def != nil && def.readOnly {
		return sqlErr("55P02", "parameter %q cannot be changed", name)
	}
	display := key
	if def != nil {
		display = def.name
	}
	switch key {
	case "timezone":
		tz, err := canonicalZone(value)
		if err != nil {
			return err
		}
		value = tz
	case "client_encoding":
		enc := strings.ToUpper(strings.NewReplacer("-", "", "_", "").Replace(value))
		if enc != "UTF8" && enc != "UNICODE" {
			return unsupported("client_encoding "+value, "the SQL API speaks UTF8 only")
		}
		value = "UTF8"
	case "datestyle":
		v := strings.ToUpper(strings.TrimSpace(value))
		switch {
		case v == "ISO":
			value = "ISO, MDY"
		case strings.HasPrefix(v, "ISO"):
			value = v
		default:
			return unsupported("DateStyle "+value, "the SQL API writes dates in ISO format only")
		}
	case "standard_conforming_strings":
		switch strings.ToLower(value) {
		case "on", "true", "1", "yes":
			value = "on"
		default:
			return unsupported("standard_conforming_strings off", "")
		}
	case "session_authorization":
		if cur := s["session_authorization"].value; value != cur {
			return sqlErr("42501", "permission denied to set session authorization")
		}
	}
	s[key] = setting{display, value}
	return nil
}

// reset restores one parameter's default.
func (s settings) reset(name, user string) {
	key := strings.ToLower(name)
	d := defaultSettings(user)
	if v, ok := d[key]; ok {
		s[key] = v
		return
	}
	delete(s, key)
}

// canonicalZone checks a TimeZone value: an IANA name, UTC or GMT.
func canonicalZone(v string) (string, error) {
	v = strings.TrimSpace(v)
	switch strings.ToUpper(v) {
	case "UTC", "Z", "ZULU", "UCT", "DEFAULT", "LOCAL", "ETC/UTC":
		return "UTC", nil
	case "GMT":
		return "GMT", nil
	}
	if _, err := time.LoadLocation(v); err != nil || v == "" {
		return "", sqlErr("22023", "invalid value for parameter \"TimeZone\": %q", v)
	}
	return v, nil
}

// reported are the parameters sent with ParameterStatus.
func (s settings) reported() map[string]string {
	out := map[string]string{}
	for _, d := range settingDefs {
		if d.report {
			out[d.name] = s[strings.ToLower(d.name)].value
		}
	}
	return out
}

// all lists every parameter for SHOW ALL, sorted by name.
func (s settings) all() [][]any {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	rows := make([][]any, len(keys))
	for i, k := range keys {
		desc := ""
		if d := settingIndex[k]; d != nil {
			desc = d.desc
		}
		rows[i] = []any{s[k].name, s[k].value, desc}
	}
	return rows
}
