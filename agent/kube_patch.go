package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
)

// Patch content types kubectl sends.
const (
	mergePatchType     = "application/merge-patch+json"
	strategicPatchType = "application/strategic-merge-patch+json"
	jsonPatchType      = "application/json-patch+json"
	applyPatchType     = "application/apply-patch+yaml"
)

// patchJSON applies a patch of contentType to the JSON document current
// and returns the patched document. It knows JSON merge patches (RFC
// 7386), JSON patches (RFC 6902) and the strategic merge patches kubectl
// apply sends, for the fields shoal has: lists of named things (containers,
// env, volumes, ...) merge by their key instead of being replaced.
// Server-side apply is refused: shoal has no field managers.
func patchJSON(contentType string, current, patch []byte) ([]byte, error) {
	if err := checkPatchType(contentType); err != nil {
		return nil, err
	}
	ct := patchMediaType(contentType)
	var doc any
	if err := json.Unmarshal(current, &doc); err != nil {
		return nil, fmt.Errorf("decode current object: %w", err)
	}
	var out any
	switch ct {
	case mergePatchType, strategicPatchType:
		var p any
		if err := json.Unmarshal(patch, &p); err != nil {
			return nil, invalid(fmt.Errorf("decode patch: %w", err))
		}
		out = mergePatch(doc, p, ct == strategicPatchType, "")
	case jsonPatchType:
		var ops []jsonPatchOp
		if err := json.Unmarshal(patch, &ops); err != nil {
			return nil, invalid(fmt.Errorf("decode JSON patch: %w", err))
		}
		var err error
		if out, err = applyJSONPatch(doc, ops); err != nil {
			return nil, invalid(err)
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encode patched object: %w", err)
	}
	return b, nil
}

func patchMediaType(contentType string) string {
	ct, _, _ := strings.Cut(contentType, ";")
	return strings.TrimSpace(ct)
}

// checkPatchType refuses, before anything is read, the patch types shoal
// does not apply: a server-side apply must not turn into a NotFound.
func checkPatchType(contentType string) error {
	switch ct := patchMediaType(contentType); ct {
	case mergePatchType, strategicPatchType, jsonPatchType:
		return nil
	case applyPatchType:
		return &badRequest{reason: "UnsupportedMediaType", code: http.StatusUnsupportedMediaType,
			err: errors.New("server-side apply is not supported by shoal; use client-side apply (kubectl apply without --server-side)")}
	default:
		return &badRequest{reason: "UnsupportedMediaType", code: http.StatusUnsupportedMediaType,
			err: fmt.Errorf("unsupported patch type %q (supported: %s, %s, %s)", ct, jsonPatchType, mergePatchType, strategicPatchType)}
	}
}

// mergeKey is the key a list merges by in a strategic merge patch, by the
// field's name ("" = the list is replaced, as in a JSON merge patch).
// These are the patchMergeKey tags of Kubernetes' types for the fields
// shoal has or may grow.
func mergeKey(field string) string {
	switch field {
	case "containers", "initContainers", "ephemeralContainers", "env", "volumes", "imagePullSecrets":
		return "name"
	case "ports":
		return "containerPort"
	case "volumeMounts":
		return "mountPath"
	case "conditions":
		return "type"
	case "ownerReferences":
		return "uid"
	}
	return ""
}

// mergePatch merges patch into doc: RFC 7386, plus, when strategic, the
// list merging and the $patch / $setElementOrder / $retainKeys /
// $deleteFromPrimitiveList directives of strategic merge patches.
func mergePatch(doc, patch any, strategic bool, field string) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		if pl, isList := patch.([]any); isList && strategic {
			return mergeList(doc, pl, field)
		}
		return patch
	}
	if strategic {
		switch pm["$patch"] {
		case "replace":
			return stripDirectives(pm)
		case "delete":
			return nil
		}
	}
	dm, ok := doc.(map[string]any)
	if !ok {
		dm = map[string]any{}
	} else {
		dm = copyMap(dm)
	}
	var retain []any
	for k, v := range pm {
		if strategic && strings.HasPrefix(k, "$") {
			switch {
			case k == "$retainKeys":
				retain, _ = v.([]any)
			case strings.HasPrefix(k, "$deleteFromPrimitiveList/"):
				name := strings.TrimPrefix(k, "$deleteFromPrimitiveList/")
				dm[name] = removeValues(dm[name], v)
			}
			continue
		}
		if v == nil {
			delete(dm, k)
			continue
		}
		dm[k] = mergePatch(dm[k], v, strategic, k)
	}
	if strategic {
		for k, v := range pm {
			if name, ok := strings.CutPrefix(k, "$setElementOrder/"); ok {
				dm[name] = reorder(dm[name], v, mergeKey(name))
			}
		}
	}
	if retain != nil {
		keep := map[string]bool{}
		for _, k := range retain {
			if s, ok := k.(string); ok {
				keep[s] = true
			}
		}
		for k := range dm {
			if !keep[k] {
				delete(dm, k)
			}
		}
	}
	return dm
}

// mergeList merges a strategic patch's list into doc's by the field's
// merge key; lists without one (and lists of scalars) are replaced.
func mergeList(doc any, patch []any, field string) any {
	key := mergeKey(field)
	dl, _ := doc.([]any)
	if key == "" || dl == nil {
		return stripList(patch)
	}
	out := append([]any(nil), dl...)
	for _, pe := range patch {
		pm, ok := pe.(map[string]any)
		if !ok {
			continue
		}
		i := indexByKey(out, key, pm[key])
		switch {
		case pm["$patch"] == "delete":
			if i >= 0 {
				out = append(out[:i], out[i+1:]...)
			}
		case i >= 0:
			out[i] = mergePatch(out[i], pm, true, "")
		default:
			out = append(out, stripDirectives(pm))
		}
	}
	return out
}

func indexByKey(list []any, key string, val any) int {
	for i, e := range list {
		if m, ok := e.(map[string]any); ok && reflect.DeepEqual(m[key], val) {
			return i
		}
	}
	return -1
}

// reorder puts the elements of list in the order $setElementOrder gives;
// elements it does not name keep their order after the named ones.
func reorder(list, order any, key string) any {
	dl, ok := list.([]any)
	ol, ok2 := order.([]any)
	if !ok || !ok2 {
		return list
	}
	var out []any
	used := make([]bool, len(dl))
	for _, o := range ol {
		for i, e := range dl {
			if used[i] {
				continue
			}
			var match bool
			if om, isMap := o.(map[string]any); isMap && key != "" {
				em, _ := e.(map[string]any)
				match = em != nil && reflect.DeepEqual(em[key], om[key])
			} else {
				match = reflect.DeepEqual(e, o)
			}
			if match {
				out = append(out, e)
				used[i] = true
				break
			}
		}
	}
	for i, e := range dl {
		if !used[i] {
			out = append(out, e)
		}
	}
	return out
}

func removeValues(list, remove any) any {
	dl, _ := list.([]any)
	rl, _ := remove.([]any)
	var out []any
	for _, e := range dl {
		drop := false
		for _, r := range rl {
			if reflect.DeepEqual(e, r) {
				drop = true
			}
		}
		if !drop {
			out = append(out, e)
		}
	}
	return out
}

// stripDirectives removes $-keys from a patch fragment that becomes data.
func stripDirectives(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range t {
			if !strings.HasPrefix(k, "$") {
				out[k] = stripDirectives(e)
			}
		}
		return out
	case []any:
		return stripList(t)
	}
	return v
}

func stripList(l []any) []any {
	out := make([]any, 0, len(l))
	for _, e := range l {
		out = append(out, stripDirectives(e))
	}
	return out
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// jsonPatchOp is one operation of an RFC 6902 JSON patch.
type jsonPatchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	From  string          `json:"from"`
	Value json.RawMessage `json:"value"`
}

func applyJSONPatch(doc any, ops []jsonPatchOp) (any, error) {
	for i, op := range ops {
		var val any
		if len(op.Value) > 0 {
			if err := json.Unmarshal(op.Value, &val); err != nil {
				return nil, fmt.Errorf("JSON patch operation %d: value: %w", i, err)
			}
		}
		var err error
		switch op.Op {
		case "add":
			doc, err = pointerSet(doc, op.Path, val, true)
		case "replace":
			if _, err = pointerGet(doc, op.Path); err == nil {
				doc, err = pointerSet(doc, op.Path, val, false)
			}
		case "remove":
			doc, err = pointerRemove(doc, op.Path)
		case "move", "copy":
			var v any
			if v, err = pointerGet(doc, op.From); err == nil {
				if op.Op == "move" {
					doc, err = pointerRemove(doc, op.From)
				}
				if err == nil {
					doc, err = pointerSet(doc, op.Path, v, true)
				}
			}
		case "test":
			var v any
			if v, err = pointerGet(doc, op.Path); err == nil && !reflect.DeepEqual(v, val) {
				err = fmt.Errorf("test failed: %s is not the expected value", op.Path)
			}
		default:
			err = fmt.Errorf("unknown op %q", op.Op)
		}
		if err != nil {
			return nil, fmt.Errorf("JSON patch operation %d (%s %s): %w", i, op.Op, op.Path, err)
		}
	}
	return doc, nil
}

func pointerTokens(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("path %q does not start with /", p)
	}
	toks := strings.Split(p[1:], "/")
	for i, t := range toks {
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return toks, nil
}

func pointerGet(doc any, p string) (any, error) {
	toks, err := pointerTokens(p)
	if err != nil {
		return nil, err
	}
	cur := doc
	for _, t := range toks {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[t]
			if !ok {
				return nil, fmt.Errorf("%s: no such member %q", p, t)
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(c) {
				return nil, fmt.Errorf("%s: index %q out of range", p, t)
			}
			cur = c[i]
		default:
			return nil, fmt.Errorf("%s: %q is not inside an object or list", p, t)
		}
	}
	return cur, nil
}

// pointerSet sets (insert: adds) the value at p and returns the new root.
func pointerSet(doc any, p string, val any, insert bool) (any, error) {
	toks, err := pointerTokens(p)
	if err != nil {
		return nil, err
	}
	return setAt(doc, toks, val, insert, p)
}

func setAt(cur any, toks []string, val any, insert bool, p string) (any, error) {
	if len(toks) == 0 {
		return val, nil
	}
	t := toks[0]
	switch c := cur.(type) {
	case map[string]any:
		if len(toks) == 1 {
			c[t] = val
			return c, nil
		}
		child, ok := c[t]
		if !ok {
			return nil, fmt.Errorf("%s: no such member %q", p, t)
		}
		nv, err := setAt(child, toks[1:], val, insert, p)
		if err != nil {
			return nil, err
		}
		c[t] = nv
		return c, nil
	case []any:
		if len(toks) == 1 && insert {
			i := len(c)
			if t != "-" {
				var err error
				if i, err = strconv.Atoi(t); err != nil || i < 0 || i > len(c) {
					return nil, fmt.Errorf("%s: index %q out of range", p, t)
				}
			}
			c = append(c[:i], append([]any{val}, c[i:]...)...)
			return c, nil
		}
		i, err := strconv.Atoi(t)
		if err != nil || i < 0 || i >= len(c) {
			return nil, fmt.Errorf("%s: index %q out of range", p, t)
		}
		nv, err := setAt(c[i], toks[1:], val, insert, p)
		if err != nil {
			return nil, err
		}
		c[i] = nv
		return c, nil
	}
	return nil, fmt.Errorf("%s: %q is not inside an object or list", p, t)
}

func pointerRemove(doc any, p string) (any, error) {
	toks, err := pointerTokens(p)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, fmt.Errorf("cannot remove the whole document")
	}
	parentPath := ""
	for _, t := range toks[:len(toks)-1] {
		parentPath += "/" + strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1")
	}
	parent, err := pointerGet(doc, parentPath)
	if err != nil {
		return nil, err
	}
	last := toks[len(toks)-1]
	switch c := parent.(type) {
	case map[string]any:
		if _, ok := c[last]; !ok {
			return nil, fmt.Errorf("%s: no such member %q", p, last)
		}
		delete(c, last)
		return doc, nil
	case []any:
		i, err := strconv.Atoi(last)
		if err != nil || i < 0 || i >= len(c) {
			return nil, fmt.Errorf("%s: index %q out of range", p, last)
		}
		return pointerSet(doc, parentPath, append(append([]any(nil), c[:i]...), c[i+1:]...), false)
	}
	return nil, fmt.Errorf("%s: not inside an object or list", p)
}
