package consensus

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// DryRun answers what applying cmd next would answer, and changes
// nothing: the command runs on a copy of the state, at the index after the
// current one. It serves the API's dryRun=All (kubectl diff, apply
// --dry-run=server), so the answer comes from the same defaulting and
// validation as a real write. The copy costs a snapshot's encoding, which
// suits a request people make by hand, not a hot path.
func (f *FSM) DryRun(cmd Command) (*Result, error) {
	f.mu.RLock()
	data, err := json.Marshal(f.st)
	index := f.st.Index
	f.mu.RUnlock()
	if err != nil {
		return nil, fmt.Errorf("dry run: copy state at index %d: %w", index, err)
	}
	st, err := decodeState(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("dry run: copy state at index %d: %w", index, err)
	}
	return st.apply(index+1, cmd)
}
