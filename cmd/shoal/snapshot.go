package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shoal-dev/shoal/api"
)

func newSnapshotCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "snapshot", Short: "Back up the fleet's state (a Raft snapshot) and restore it"}
	cmd.AddCommand(&cobra.Command{
		Use:   "save FILE",
		Short: "Write the leader's state snapshot (nodes, pods, controllers) to FILE",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var raw json.RawMessage
			if err := g.client().getJSON(cmd.Context(), "/shoal/v1/snapshot", &raw); err != nil {
				return fmt.Errorf("snapshot: %w", err)
			}
			snap, err := decodeSnapshot(raw)
			if err != nil {
				return err
			}
			// Write then rename: a backup is either whole or absent.
			tmp := args[0] + ".tmp"
			if err := os.WriteFile(tmp, raw, 0o600); err != nil {
				return fmt.Errorf("snapshot: %w", err)
			}
			if err := os.Rename(tmp, args[0]); err != nil {
				return fmt.Errorf("snapshot: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "saved state at index %d (%d nodes, %d pods, %d controllers) to %s\n",
				snap.Index, len(snap.Nodes), len(snap.Pods), len(snap.RCs)+len(snap.ReplicaSets), args[0])
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "restore FILE",
		Short: "Re-create the controllers and bare pods of a snapshot in this fleet",
		Long: `Re-create what a snapshot holds in the fleet the CLI points at (a new fleet after a
total loss, or the same one): every ReplicationController and ReplicaSet, and every pod
no controller owns. Pods of controllers are made again by their controllers. Pods are
placed anew, so they may get other nodes and IPs. Objects that exist are updated.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := os.ReadFile(args[0])
			if err != nil {
				return fmt.Errorf("restore: %w", err)
			}
			snap, err := decodeSnapshot(raw)
			if err != nil {
				return fmt.Errorf("restore %s: %w", args[0], err)
			}
			c := g.client()
			for _, obj := range snap.restorable() {
				verb, err := applyObject(cmd.Context(), c, obj, "")
				if err != nil {
					return fmt.Errorf("restore: %w", err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s/%s %s\n", strings.ToLower(api.TypeMetaOf(obj).Kind), api.MetaOf(obj).Name, verb)
			}
			return nil
		},
	})
	return cmd
}

// stateSnapshot is the JSON of the Raft state machine's snapshot.
type stateSnapshot struct {
	Index       uint64                                `json:"index"`
	Nodes       map[string]*api.Node                  `json:"nodes"`
	Pods        map[string]*api.Pod                   `json:"pods"`
	RCs         map[string]*api.ReplicationController `json:"replicationControllers"`
	ReplicaSets map[string]*api.ReplicaSet            `json:"replicaSets"`
	Secrets     map[string]*api.Secret                `json:"secrets"`
	ConfigMaps  map[string]*api.ConfigMap             `json:"configMaps"`
}

func decodeSnapshot(raw []byte) (*stateSnapshot, error) {
	var s stateSnapshot
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("not a shoal snapshot: %w", err)
	}
	if s.Nodes == nil || s.Pods == nil {
		return nil, fmt.Errorf("not a shoal snapshot: no nodes or pods")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("not a shoal snapshot: data after the state")
	}
	return &s, nil
}

// restorable is what a fresh fleet needs to converge to the snapshot:
// Secrets and ConfigMaps first (pods pull with them and read them), controllers next (they then adopt or
// make their pods), then the pods no
// controller owns, each stripped of what the old fleet decided (UID,
// version, binding, status).
func (s *stateSnapshot) restorable() []api.Object {
	var out []api.Object
	for _, k := range sortedKeys(s.Secrets) {
		sec := s.Secrets[k]
		sec.TypeMeta = api.TypeMeta{APIVersion: "v1", Kind: "Secret"}
		sec.ObjectMeta = cleanMeta(sec.ObjectMeta)
		out = append(out, sec)
	}
	for _, k := range sortedKeys(s.ConfigMaps) {
		cm := s.ConfigMaps[k]
		cm.TypeMeta = api.TypeMeta{APIVersion: "v1", Kind: api.KindConfigMap}
		cm.ObjectMeta = cleanMeta(cm.ObjectMeta)
		out = append(out, cm)
	}
	for _, k := range sortedKeys(s.RCs) {
		rc := s.RCs[k]
		rc.TypeMeta = api.TypeMeta{APIVersion: "v1", Kind: "ReplicationController"}
		rc.ObjectMeta = cleanMeta(rc.ObjectMeta)
		rc.Status = api.ReplicationControllerStatus{}
		out = append(out, rc)
	}
	for _, k := range sortedKeys(s.ReplicaSets) {
		rs := s.ReplicaSets[k]
		rs.TypeMeta = api.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"}
		rs.ObjectMeta = cleanMeta(rs.ObjectMeta)
		rs.Status = api.ReplicaSetStatus{}
		out = append(out, rs)
	}
	for _, k := range sortedKeys(s.Pods) {
		p := s.Pods[k]
		if ownedByController(p.ObjectMeta) {
			continue
		}
		p.TypeMeta = api.TypeMeta{APIVersion: "v1", Kind: "Pod"}
		p.ObjectMeta = cleanMeta(p.ObjectMeta)
		p.Spec.NodeName = ""
		p.Status = api.PodStatus{}
		out = append(out, p)
	}
	return out
}

func ownedByController(m api.ObjectMeta) bool {
	for _, o := range m.OwnerReferences {
		if o.Controller != nil && *o.Controller {
			return true
		}
	}
	return false
}

func cleanMeta(m api.ObjectMeta) api.ObjectMeta {
	return api.ObjectMeta{Name: m.Name, Namespace: m.Namespace, Labels: m.Labels, Annotations: m.Annotations}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
