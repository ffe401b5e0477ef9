package consensus

import (
	"fmt"

	"github.com/hashicorp/raft"
)

// ApplyCommand applies cmd at index the way Raft applies a committed
// entry: encoded, decoded, then Apply. It is for the tests and benchmarks
// of what follows the state (the API's watches), which need the state
// machine but not a log; the fleet writes only through Raft.Apply.
func (f *FSM) ApplyCommand(index uint64, cmd Command) (*Result, error) {
	data, err := EncodeCommand(cmd)
	if err != nil {
		return nil, err
	}
	switch out := f.Apply(&raft.Log{Index: index, Type: raft.LogCommand, Data: data}).(type) {
	case *Result:
		return out, nil
	case error:
		return nil, out
	default:
		return nil, fmt.Errorf("apply %s: unexpected answer %T", cmd.Type(), out)
	}
}
