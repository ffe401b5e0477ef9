package agent

import (
	"crypto/rand"
	"fmt"
)

// randomSuffix is five characters of Kubernetes' name alphabet (no vowels,
// no look-alikes), as in "web-x7k2p".
func randomSuffix() string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}
