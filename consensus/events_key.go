package consensus

import (
	"strings"

	"github.com/shoal-dev/shoal/api"
)

// hasEventKey reports whether eventKey(e) == key without building
// eventKey(e): record compares each new event with every stored one (up to
// MaxEvents), and the placement pass records a Scheduled event per pod it
// binds in one entry, so building the keys was a million strings for a
// pass of 500 on a full event log. The parts are matched in the order
// eventKey joins them, so the answer is exactly the comparison's.
func hasEventKey(e *api.Event, key string) bool {
	rest, ok := key, true
	eat := func(part string) {
		if ok = ok && strings.HasPrefix(rest, part); ok {
			rest = rest[len(part):]
		}
	}
	if uid := string(e.InvolvedObject.UID); uid != "" {
		eat(uid)
	} else {
		eat(e.InvolvedObject.Kind)
		eat("/")
		eat(e.InvolvedObject.Namespace)
		eat("/")
		eat(e.InvolvedObject.Name)
	}
	for _, part := range [...]string{e.Type, e.Reason, e.Message, e.Source.Component, e.Source.Host} {
		eat("\x00")
		eat(part)
	}
	return ok && rest == ""
}
