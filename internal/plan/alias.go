package plan

import "strings"

// Alias is the SQL column alias of a member, as Cube spells it: the name underscored, with
// "." as "__" (users.createdAt → users__created_at).
func Alias(member string) string {
	var sb strings.Builder
	for i, part := range strings.Split(member, ".") {
		if i > 0 {
			sb.WriteString("__")
		}
		sb.WriteString(underscore(part))
	}
	return sb.String()
}

// underscore turns camelCase into snake_case and leaves snake_case alone.
func underscore(s string) string {
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			if i > 0 && s[i-1] != '_' && !(s[i-1] >= 'A' && s[i-1] <= 'Z') {
				sb.WriteByte('_')
			}
			c += 'a' - 'A'
		}
		sb.WriteByte(c)
	}
	return sb.String()
}
