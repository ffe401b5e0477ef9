package consensus

import (
	"errors"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

func TestDryRunAnswersAsApplyAndChangesNothing(t *testing.T) {
	f := NewFSM()
	sec := api.Secret{ObjectMeta: api.ObjectMeta{Name: "s", Namespace: "default"}, Data: map[string][]byte{"a": []byte("b")}}
	create := ApplySecret{Secret: sec, Create: true, UID: "u1", Time: time.Unix(1, 0)}
	res, err := f.DryRun(create)
	if err != nil || !res.Created || res.Index != 1 || res.Secret.UID != "u1" {
		t.Fatalf("dry-run create: %+v %v", res, err)
	}
	if _, err := f.Secret("default", "s"); err == nil || f.Index() != 0 {
		t.Fatalf("a dry run stored the Secret (index %d)", f.Index())
	}
	if _, err := f.apply(1, create); err != nil {
		t.Fatal(err)
	}
	// The copy sees what is stored: a second create is AlreadyExists, as Apply says.
	_, dryErr := f.DryRun(create)
	_, realErr := f.apply(2, create)
	var exists *AlreadyExistsError
	if !errors.As(dryErr, &exists) || dryErr.Error() != realErr.Error() {
		t.Errorf("dry run %v, apply %v", dryErr, realErr)
	}
	if _, err := f.DryRun(DeleteSecret{Namespace: "default", Name: "s"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Secret("default", "s"); err != nil {
		t.Errorf("a dry-run delete removed the Secret: %v", err)
	}
}
