package main

import "testing"

func TestRatioNamesTheSideAhead(t *testing.T) {
	tests := []struct {
		name          string
		shoal, peer   []float64
		lowerIsBetter bool
		want          string
	}{
		{"more writes/s is shoal ahead", []float64{2000}, []float64{1000}, false, "2.000× (shoal ahead)"},
		{"fewer writes/s is the peer ahead", []float64{500}, []float64{1000}, false, "0.500× (etcd ahead)"},
		{"lower latency is shoal ahead", []float64{1}, []float64{4}, true, "0.250× (shoal ahead)"},
		{"higher latency is the peer ahead", []float64{3}, []float64{1, 1.5, 2}, true, "2.000× (etcd ahead)"},
		{"no peer figure", []float64{1}, nil, true, "–"},
		{"a zero peer median", []float64{1}, []float64{0}, true, "–"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ratio(tt.shoal, tt.peer, tt.lowerIsBetter, "etcd"); got != tt.want {
				t.Fatalf("ratio(%v, %v, %v) = %q, want %q", tt.shoal, tt.peer, tt.lowerIsBetter, got, tt.want)
			}
		})
	}
}

func TestBusyMachineFromTheRunsLoad(t *testing.T) {
	tests := []struct {
		machine  string
		wantBusy bool
	}{
		{"nproc:   2\nload:    0.46 0.53 1.20 (1/5/15 min, at start)\n", false},
		{"nproc:   2\nload:    1.00 0.53 1.20 (1/5/15 min, at start)\n", false},
		{"nproc:   2\nload:    6.55 4.64 3.01 (1/5/15 min, at start)\n", true},
		{"load:    6.55 4.64 3.01\n", false}, // no core count: cannot say
		{"", false},
	}
	for _, tt := range tests {
		if _, busy := busyMachine(tt.machine); busy != tt.wantBusy {
			t.Errorf("busyMachine(%q) = %v, want %v", tt.machine, busy, tt.wantBusy)
		}
	}
}
