package placement

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/shoal-dev/shoal/api"
)

// podTerms is a pod's pod affinity, anti-affinity and topology spread
// constraints compiled against the pods already placed, once per choice,
// so that checking a node costs a map lookup per term.
type podTerms struct {
	anti, affinity []domains
	// repelled are the domains whose placed pods' required anti-affinity
	// selects this pod (Kubernetes' symmetry of anti-affinity).
	repelled  []domains
	preferred []weighted
	spread    []spreading
}

// domains are the values of a topology key whose nodes run a pod that a
// term selects.
type domains struct {
	key, selector string
	values        map[string]bool
	// anywhere: an affinity term no placed pod matches, which the pod
	// itself matches: the first of a group may go to any node that has
	// the key, as in Kubernetes.
	anywhere bool
}

type weighted struct {
	domains
	weight int64 // negative for anti-affinity
}

// spreading is one topology spread constraint: the matching pods per
// domain of the nodes the pod may go to.
type spreading struct {
	key, selector string
	maxSkew       int
	hard          bool // DoNotSchedule
	counts        map[string]int
	min, self     int
}

// selects is whether a term's selector and namespaces take a placed pod.
type selects struct {
	sel labels.Selector
	ns  map[string]bool
}

func (s selects) match(p *placedPod) bool { return s.ns[p.namespace] && s.sel.Matches(p.labels) }

func termSelects(pod *api.Pod, t *api.PodAffinityTerm) selects {
	sel, err := metav1.LabelSelectorAsSelector(t.LabelSelector)
	if err != nil {
		sel = labels.Nothing() // the API refuses such selectors
	}
	ns := map[string]bool{}
	for _, n := range t.Namespaces {
		ns[n] = true
	}
	if len(ns) == 0 {
		ns[pod.ObjectMeta.Namespace] = true
	}
	return selects{sel: sel, ns: ns}
}

func (pl *Placed) domainsOf(pod *api.Pod, t *api.PodAffinityTerm) domains {
	s := termSelects(pod, t)
	d := domains{key: t.TopologyKey, selector: s.sel.String(), values: map[string]bool{}}
	for i := range pl.pods {
		p := &pl.pods[i]
		if v, ok := p.node[t.TopologyKey]; ok && s.match(p) {
			d.values[v] = true
		}
	}
	return d
}

// repelledOf is, per placed pod's anti-affinity term that selects pod, the
// domain it keeps pod out of.
func (pl *Placed) repelledOf(pod *api.Pod) []domains {
	if pl.repelling == 0 {
		return nil
	}
	self := placedPod{namespace: pod.ObjectMeta.Namespace, labels: labels.Set(pod.ObjectMeta.Labels)}
	var out []domains
	for i := range pl.pods {
		p := &pl.pods[i]
		for _, t := range p.anti {
			if v, ok := p.node[t.key]; ok && t.match(&self) {
				out = append(out, domains{key: t.key, selector: t.selector, values: map[string]bool{v: true}})
			}
		}
	}
	return out
}

// compileTerms reads pl for pod's terms; nodes are the candidates, whose
// domains the spread constraints count over (those the pod's node
// selector and node affinity allow, as Kubernetes' nodeAffinityPolicy
// Honor does).
func compileTerms(pod *api.Pod, need *needs, nodes []NodeInfo, pl *Placed) *podTerms {
	if pl == nil {
		pl = &Placed{}
	}
	pt := &podTerms{repelled: pl.repelledOf(pod)}
	if a := pod.Spec.Affinity; a != nil {
		if pa := a.PodAntiAffinity; pa != nil {
			for i := range pa.RequiredDuringSchedulingIgnoredDuringExecution {
				pt.anti = append(pt.anti, pl.domainsOf(pod, &pa.RequiredDuringSchedulingIgnoredDuringExecution[i]))
			}
			for _, w := range pa.PreferredDuringSchedulingIgnoredDuringExecution {
				pt.preferred = append(pt.preferred, weighted{pl.domainsOf(pod, &w.PodAffinityTerm), -int64(w.Weight)})
			}
		}
		if pa := a.PodAffinity; pa != nil {
			for i := range pa.RequiredDuringSchedulingIgnoredDuringExecution {
				t := &pa.RequiredDuringSchedulingIgnoredDuringExecution[i]
				d := pl.domainsOf(pod, t)
				if len(d.values) == 0 {
					self := placedPod{namespace: pod.ObjectMeta.Namespace, labels: labels.Set(pod.ObjectMeta.Labels)}
					d.anywhere = termSelects(pod, t).match(&self)
				}
				pt.affinity = append(pt.affinity, d)
			}
			for _, w := range pa.PreferredDuringSchedulingIgnoredDuringExecution {
				pt.preferred = append(pt.preferred, weighted{pl.domainsOf(pod, &w.PodAffinityTerm), int64(w.Weight)})
			}
		}
	}
	for _, c := range pod.Spec.TopologySpreadConstraints {
		pt.spread = append(pt.spread, pl.spreadingOf(pod, need, c, nodes))
	}
	return pt
}

func (pl *Placed) spreadingOf(pod *api.Pod, need *needs, c api.TopologySpreadConstraint, nodes []NodeInfo) spreading {
	sel, err := metav1.LabelSelectorAsSelector(c.LabelSelector)
	if err != nil {
		sel = labels.Nothing()
	}
	if len(c.MatchLabelKeys) > 0 { // the pod's own values of those keys narrow the selector
		sel = sel.DeepCopySelector()
		for _, k := range c.MatchLabelKeys {
			if v, ok := pod.ObjectMeta.Labels[k]; ok {
				if r, err := labels.NewRequirement(k, "=", []string{v}); err == nil {
					sel = sel.Add(*r)
				}
			}
		}
	}
	s := spreading{key: c.TopologyKey, selector: sel.String(), maxSkew: int(c.MaxSkew),
		hard: c.WhenUnsatisfiable != api.ScheduleAnyway, counts: map[string]int{}}
	for i := range nodes {
		n := nodes[i].Node
		if v, ok := n.ObjectMeta.Labels[c.TopologyKey]; ok && need.nodeAllows(n) {
			s.counts[v] += 0 // a domain with no matching pod yet counts as 0
		}
	}
	for i := range pl.pods {
		p := &pl.pods[i]
		v, ok := p.node[c.TopologyKey]
		if _, domain := s.counts[v]; ok && domain && p.namespace == pod.ObjectMeta.Namespace && sel.Matches(p.labels) {
			s.counts[v]++
		}
	}
	first := true
	for _, n := range s.counts {
		if first || n < s.min {
			s.min, first = n, false
		}
	}
	if sel.Matches(labels.Set(pod.ObjectMeta.Labels)) {
		s.self = 1
	}
	return s
}

// check is the terms' verdict on node n, with the detail reason reports.
func (pt *podTerms) check(n *api.Node) (miss, string) {
	l := n.ObjectMeta.Labels
	for _, d := range pt.anti {
		if v, ok := l[d.key]; ok && d.values[v] {
			return podAntiAffinity, fmt.Sprintf("a pod matching %s already runs in %s=%s", d.selector, d.key, v)
		}
	}
	for _, d := range pt.repelled {
		if v, ok := l[d.key]; ok && d.values[v] {
			return podAntiAffinity, fmt.Sprintf("a pod in %s=%s keeps out pods matching %s (its anti-affinity)", d.key, v, d.selector)
		}
	}
	for _, d := range pt.affinity {
		v, ok := l[d.key]
		if !ok || !(d.values[v] || d.anywhere) {
			return podAffinity, fmt.Sprintf("no pod matching %s runs in its %s", d.selector, d.key)
		}
	}
	for _, s := range pt.spread {
		if !s.hard {
			continue
		}
		v, ok := l[s.key]
		if !ok {
			return spreadSkew, fmt.Sprintf("it has no %s label", s.key)
		}
		if skew := s.counts[v] + s.self - s.min; skew > s.maxSkew {
			return spreadSkew, fmt.Sprintf("%d pods matching %s in %s=%s would be %d over the fewest, more than maxSkew %d", s.counts[v]+s.self, s.selector, s.key, v, skew, s.maxSkew)
		}
	}
	return fits, ""
}

// score is the preferred pod (anti-)affinity weights node n earns; spread
// is how many matching pods its domains already hold under ScheduleAnyway
// constraints (fewer is better).
func (pt *podTerms) score(n *api.Node) (pref int64, spread int) {
	l := n.ObjectMeta.Labels
	for _, w := range pt.preferred {
		if v, ok := l[w.key]; ok && w.values[v] {
			pref += w.weight
		}
	}
	for _, s := range pt.spread {
		if v, ok := l[s.key]; ok && !s.hard {
			spread += s.counts[v]
		}
	}
	return pref, spread
}
