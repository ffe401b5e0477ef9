package agent

import "testing"

func TestRandomSuffixUsesKubernetesAlphabet(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
		s := randomSuffix()
		if len(s) != 5 {
			t.Fatalf("suffix %q", s)
		}
		seen[s] = true
	}
	if len(seen) < 45 {
		t.Fatalf("suffixes repeat too often: %d distinct of 50", len(seen))
	}
}
