package agent

import (
	"errors"
	"testing"

	"github.com/hashicorp/memberlist"
)

// askedAlive counts the members an alive check was asked about and
// refuses those named in refuse.
type askedAlive struct {
	asked  map[string]int
	refuse map[string]bool
}

func (a *askedAlive) NotifyAlive(n *memberlist.Node) error {
	a.asked[n.Name]++
	if a.refuse[n.Name] {
		return errors.New("refused")
	}
	return nil
}

func (a *askedAlive) NotifyMerge(peers []*memberlist.Node) error {
	for _, n := range peers {
		if err := a.NotifyAlive(n); err != nil {
			return err
		}
	}
	return nil
}

func TestAliveVerdictsAreAskedOncePerMetadata(t *testing.T) {
	check := &askedAlive{asked: map[string]int{}, refuse: map[string]bool{"bad": true}}
	mc := &memberlist.Config{Alive: check, Merge: check}
	cacheAliveVerdicts(mc)
	alive := func(name, meta string) error {
		return mc.Alive.NotifyAlive(&memberlist.Node{Name: name, Meta: []byte(meta), State: memberlist.StateAlive})
	}
	for range 3 { // gossip's repeats of one alive message
		if err := alive("a", `{"l":"x"}`); err != nil {
			t.Fatal(err)
		}
	}
	if check.asked["a"] != 1 {
		t.Errorf("the same metadata was checked %d times, want once", check.asked["a"])
	}
	if err := alive("a", `{"l":"y"}`); err != nil { // its metadata changed
		t.Fatal(err)
	}
	if check.asked["a"] != 2 {
		t.Errorf("changed metadata: checked %d times in all, want 2", check.asked["a"])
	}
	for range 2 {
		if alive("bad", `{}`) == nil {
			t.Fatal("a refused member was let through")
		}
	}
	if check.asked["bad"] != 2 {
		t.Errorf("a refusal was asked %d times, want every time (2)", check.asked["bad"])
	}

	// A merge asks only about members not let through before with the
	// same metadata, and a refusal refuses the whole merge.
	peers := []*memberlist.Node{
		{Name: "a", Meta: []byte(`{"l":"y"}`), State: memberlist.StateAlive},
		{Name: "b", Meta: []byte(`{}`), State: memberlist.StateAlive},
	}
	if err := mc.Merge.NotifyMerge(peers); err != nil {
		t.Fatal(err)
	}
	if check.asked["a"] != 2 || check.asked["b"] != 1 {
		t.Errorf("merge asked a %d (want 2 in all), b %d (want 1) times", check.asked["a"], check.asked["b"])
	}
	if err := alive("b", `{}`); err != nil || check.asked["b"] != 1 {
		t.Errorf("b, let through by the merge, asked again (%d times in all, %v)", check.asked["b"], err)
	}
	peers = append(peers, &memberlist.Node{Name: "bad", Meta: []byte(`{}`), State: memberlist.StateAlive})
	if mc.Merge.NotifyMerge(peers) == nil {
		t.Error("a merge holding a refused member was let through")
	}
}
