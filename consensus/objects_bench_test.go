package consensus

import (
	"fmt"
	"testing"
)

// BenchmarkDeleteObject is what a delete through the API costs the state
// machine beside the kind's own delete: DeleteObject reads every stored
// object's UID before and after (its cascade), so its cost grows with the
// state. Fleets of 1,000 nodes with 1 and 10 bound pods each; each
// iteration deletes one pod and creates it again with the timer stopped,
// so the state keeps its size.
func BenchmarkDeleteObject(b *testing.B) {
	for _, perNode := range []int{1, 10} {
		for _, generic := range []bool{false, true} {
			name := fmt.Sprintf("pods=%d/DeletePod", 1000*perNode)
			if generic {
				name = fmt.Sprintf("pods=%d/DeleteObject", 1000*perNode)
			}
			b.Run(name, func(b *testing.B) {
				f := fleetFSM(b, 1000, perNode)
				apply := fsmApplier(b, f)
				apply(create("victim", "64Mi"))
				b.ReportAllocs()
				for b.Loop() {
					if generic {
						apply(DeleteObject{Kind: KindPod, Namespace: "default", Name: "victim"})
					} else {
						apply(DeletePod{Namespace: "default", Name: "victim"})
					}
					b.StopTimer()
					apply(create("victim", "64Mi"))
					b.StartTimer()
				}
			})
		}
	}
}
