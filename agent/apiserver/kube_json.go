package apiserver

// jsonObj is an object decoded from JSON, read by path: what a Table row
// and a patch read of an object whose kind they need not know.
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
