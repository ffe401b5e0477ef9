package podruntime

import (
	"strings"

	"github.com/shoal-dev/shoal/api"
)

// expandVars replaces $(NAME) in s with the value vars gives NAME, as
// Kubernetes expands env values, command and args (its
// third_party/forked/golang/expansion): $$ is a literal $, and a reference
// to a name vars does not hold, or one never closed, stays as written.
func expandVars(s string, vars map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	checkpoint := 0
	for cursor := 0; cursor < len(s); cursor++ {
		if s[cursor] != '$' || cursor+1 >= len(s) {
			continue
		}
		b.WriteString(s[checkpoint:cursor])
		rest := s[cursor+1:]
		advance := 1
		switch rest[0] {
		case '$':
			b.WriteByte('$')
		case '(':
			end := strings.IndexByte(rest, ')')
			if end < 0 {
				b.WriteString("$(")
				break
			}
			name := rest[1:end]
			if v, ok := vars[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString("$(" + name + ")")
			}
			advance = end + 1
		default:
			b.WriteString("$" + rest[:1])
		}
		cursor += advance
		checkpoint = cursor + 1
	}
	b.WriteString(s[checkpoint:])
	return b.String()
}

// expandCommand is the container with $(NAME) in its command and args
// replaced from its environment, as the kubelet does before it runs it.
func expandCommand(c api.Container, env []string) api.Container {
	if len(c.Command) == 0 && len(c.Args) == 0 {
		return c
	}
	vars := make(map[string]string, len(env))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	expand := func(in []string) []string {
		if in == nil {
			return nil
		}
		out := make([]string, len(in))
		for i, s := range in {
			out[i] = expandVars(s, vars)
		}
		return out
	}
	c.Command, c.Args = expand(c.Command), expand(c.Args)
	return c
}
