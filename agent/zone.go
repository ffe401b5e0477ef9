package agent

import (
	"fmt"
	"maps"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// ZoneLabel is the well-known node label of a node's zone, which topology
// spread constraints and (anti-)affinity read like any other node label.
const ZoneLabel = "topology.kubernetes.io/zone"

// validZones names a zone that is not a label value, and a --zone that
// contradicts a zone given among --labels.
func (c *Config) validZones() error {
	for _, z := range []struct{ flag, v string }{{"zone", c.Zone}, {"seat-zone", c.SeatZone}} {
		if errs := validation.IsValidLabelValue(z.v); len(errs) > 0 {
			return fmt.Errorf("%s %q: not a label value: %s", z.flag, z.v, strings.Join(errs, "; "))
		}
	}
	if l, ok := c.Labels[ZoneLabel]; ok && c.Zone != "" && l != c.Zone {
		return fmt.Errorf("zone %q: labels give %s=%s; give the zone once", c.Zone, ZoneLabel, l)
	}
	return nil
}

// nodeLabels is what the agent reports as its node's labels: the --labels
// given, with the zone. The node's other labels (set through the API)
// are kept by the leader beside these (consensus.AgentLabels).
func (c *Config) nodeLabels() map[string]string {
	if c.Zone == "" {
		return c.Labels
	}
	out := maps.Clone(c.Labels)
	if out == nil {
		out = map[string]string{}
	}
	out[ZoneLabel] = c.Zone
	return out
}
