package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Lab is a built lab, as recorded in its state file StateRoot/NAME/lab.json.
type Lab struct {
	Name      string `json:"name"`
	StateRoot string `json:"stateRoot"`
	Dir       string `json:"dir"`
	LabCIDR   string `json:"labCIDR"`
	PodCIDR   string `json:"podCIDR"`
	// ServiceCIDR is empty in the state of a lab made before Services.
	ServiceCIDR string    `json:"serviceCIDR,omitempty"`
	Servers     int       `json:"servers"`
	MaxPods     int       `json:"maxPods,omitempty"`
	AgentArgs   []string  `json:"agentArgs,omitempty"`
	Netns       string    `json:"netns"`
	HostLink    string    `json:"hostLink"`
	HostAddr    string    `json:"hostAddr"`
	CreatedAt   time.Time `json:"createdAt"`

	// Containerd is the address every agent uses; OwnContainerd says the
	// lab started it (ContainerdPID) and stops it on Down.
	Containerd    string `json:"containerd"`
	OwnContainerd bool   `json:"ownContainerd"`
	ContainerdPID int    `json:"containerdPID,omitempty"`

	Nodes []Node `json:"nodes"`

	// Machines: every node is a systemd machine booted from MachineRoot
	// (machine.go); the API wants the token in TokenFile and, with TLS,
	// trusts CAFile.
	Machines    bool   `json:"machines,omitempty"`
	MachineRoot string `json:"machineRoot,omitempty"`
	TokenFile   string `json:"tokenFile,omitempty"`
	CAFile      string `json:"caFile,omitempty"`
}

// Node is one node of a lab.
type Node struct {
	Name    string `json:"name"`
	Netns   string `json:"netns"`
	Addr    string `json:"addr"`
	Memory  string `json:"memory"`
	CPU     string `json:"cpu"`
	DataDir string `json:"dataDir"`
	Log     string `json:"log"`
	// PID is the agent's, or on a machines lab systemd-nspawn's.
	PID int `json:"pid,omitempty"`
	// Scheme is https when the agent serves TLS; empty means http.
	Scheme string `json:"scheme,omitempty"`
}

// APIURL is the node agent's HTTP API, reachable from the host over the
// lab link.
func (n Node) APIURL() string {
	scheme := n.Scheme
	if scheme == "" {
		scheme = "http"
	}
	return fmt.Sprintf("%s://%s:%d", scheme, n.Addr, APIPort)
}

// Env returns the shell exports that point the CLI at the lab.
func (l *Lab) Env() string {
	addr := ""
	if len(l.Nodes) > 0 {
		addr = l.Nodes[0].APIURL()
	}
	env := fmt.Sprintf("export SHOAL_ADDR=%s\nexport SHOAL_LAB=%s\n", addr, l.Name)
	if token := l.token(); token != "" {
		env += fmt.Sprintf("export SHOAL_TOKEN=%s\n", token)
	}
	if l.CAFile != "" {
		env += fmt.Sprintf("export SHOAL_CACERT=%s\n", l.CAFile)
	}
	return env
}

// token is the API token of a lab that has one, else "".
func (l *Lab) token() string {
	if l.TokenFile == "" {
		return ""
	}
	b, err := os.ReadFile(l.TokenFile)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// Node returns the node called name.
func (l *Lab) Node(name string) (Node, error) {
	for _, n := range l.Nodes {
		if n.Name == name {
			return n, nil
		}
	}
	return Node{}, fmt.Errorf("lab %s has no node %q (nodes n1..n%d)", l.Name, name, len(l.Nodes))
}

// save writes the state file atomically so a crash never leaves half a file.
func (l *Lab) save() error {
	data, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return fmt.Errorf("encode lab %s state: %w", l.Name, err)
	}
	path := statePath(l.StateRoot, l.Name)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("write lab %s state: %w", l.Name, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write lab %s state: %w", l.Name, err)
	}
	return nil
}

// ErrNotFound means no state file exists for the lab.
var ErrNotFound = errors.New("lab not found")

// Load reads the state file Up wrote for lab name.
func Load(stateRoot, name string) (*Lab, error) {
	if stateRoot == "" {
		stateRoot = DefaultStateRoot
	}
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(statePath(stateRoot, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("load lab %s from %s: %w", name, stateRoot, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("load lab %s: %w", name, err)
	}
	var l Lab
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("load lab %s: decode %s: %w", name, statePath(stateRoot, name), err)
	}
	return &l, nil
}

// List loads every lab under stateRoot, sorted by name. Directories without a
// readable state file are skipped.
func List(stateRoot string) ([]*Lab, error) {
	if stateRoot == "" {
		stateRoot = DefaultStateRoot
	}
	entries, err := os.ReadDir(stateRoot)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list labs in %s: %w", stateRoot, err)
	}
	var labs []*Lab
	for _, e := range entries {
		if !e.IsDir() || ValidateName(e.Name()) != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(stateRoot, e.Name(), stateFileName)); err != nil {
			continue
		}
		l, err := Load(stateRoot, e.Name())
		if err != nil {
			continue
		}
		labs = append(labs, l)
	}
	sort.Slice(labs, func(i, j int) bool { return labs[i].Name < labs[j].Name })
	return labs, nil
}
