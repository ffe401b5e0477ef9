package lab

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"

	"github.com/shoal-dev/shoal/netplane/netnsdir"
)

// netnsDir is where named network namespaces live (as with `ip netns`).
const netnsDir = netnsdir.Dir

// Names inside the lab namespace and the node namespaces; these never clash
// with the host because they live in namespaces of their own.
const (
	bridgeName    = "br0"
	labHostPeer   = "host0"
	nodeIfName    = "eth0"
	stateFileName = "lab.json"
)

func labNetns(name string) string             { return "shoal-" + name }
func nodeName(k int) string                   { return fmt.Sprintf("n%d", k) }
func nodeNetns(lab, node string) string       { return labNetns(lab) + "-" + node }
func podNetnsPrefix(lab, node string) string  { return nodeNetns(lab, node) + "-" }
func containerdNS(lab, node string) string    { return nodeNetns(lab, node) }
func bridgePortName(node string) string       { return "v" + node }
func stateDir(stateRoot, name string) string  { return stateRoot + "/" + name }
func statePath(stateRoot, name string) string { return stateDir(stateRoot, name) + "/" + stateFileName }

// hostLinkName is the host-side veth. Interface names are at most 15 bytes
// and lab names may be longer, so it is a hash of the lab name.
func hostLinkName(name string) string {
	sum := sha256.Sum256([]byte(name))
	return "shoal" + hex.EncodeToString(sum[:])[:8]
}

// ownedNetnsRE matches the node namespaces of lab name and the pod
// namespaces their agents make (prefix shoal-NAME-nK-).
func ownedNetnsRE(name string) *regexp.Regexp {
	return regexp.MustCompile(`^` + regexp.QuoteMeta(labNetns(name)) + `-n[0-9]+(-.*)?$`)
}

// ownedContainerdNSRE matches the containerd namespaces of lab name.
func ownedContainerdNSRE(name string) *regexp.Regexp {
	return regexp.MustCompile(`^` + regexp.QuoteMeta(labNetns(name)) + `-n[0-9]+$`)
}
