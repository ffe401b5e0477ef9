package apiserver

import (
	"time"

	"k8s.io/apimachinery/pkg/util/duration"
)

// jsonObj is an object decoded from JSON, read by path. Tables read
// objects this way so that a kind's table needs only its JSON shape.
type jsonObj map[string]any

func (o jsonObj) get(path ...string) any {
	var cur any = map[string]any(o)
	for _, p := range path {
		m, ok := asMap(cur)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

func asMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case jsonObj:
		return m, true
	}
	return nil, false
}

func (o jsonObj) str(path ...string) string {
	s, _ := o.get(path...).(string)
	return s
}

func (o jsonObj) num(path ...string) int64 {
	f, _ := o.get(path...).(float64)
	return int64(f)
}

func (o jsonObj) list(path ...string) []jsonObj {
	items, _ := o.get(path...).([]any)
	out := make([]jsonObj, 0, len(items))
	for _, it := range items {
		if m, ok := asMap(it); ok {
			out = append(out, m)
		}
	}
	return out
}

func (o jsonObj) time(path ...string) time.Time {
	t, err := time.Parse(time.RFC3339, o.str(path...))
	if err != nil {
		return time.Time{}
	}
	return t
}

// strMap reads a map of strings, such as labels or a selector.
func (o jsonObj) strMap(path ...string) map[string]string {
	m, _ := asMap(o.get(path...))
	out := make(map[string]string, len(m))
	for k, v := range m {
		s, _ := v.(string)
		out[k] = s
	}
	return out
}

// age is how kubectl shows how long ago t was: 5s, 3m2s, 4h, 12d.
func age(t, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t))
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}
