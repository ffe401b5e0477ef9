package printers

import (
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shoal-dev/shoal/api"
)

func TestEventRowPrefersTheSeries(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	e := &api.Event{
		ObjectMeta:     api.ObjectMeta{Name: "web.1"},
		InvolvedObject: api.ObjectReference{Kind: "Pod", Name: "web", FieldPath: "spec.containers{web}"},
		Reason:         "Pulled", Message: "pulled \n", Type: api.EventNormal, Count: 2,
		Source:         api.EventSource{Component: "shoal-agent", Host: "n1"},
		FirstTimestamp: metav1.NewTime(now.Add(-time.Hour)), LastTimestamp: metav1.NewTime(now.Add(-time.Minute)),
	}
	want := []any{"60s", "Normal", "Pulled", "pod/web", "spec.containers{web}", "shoal-agent, n1", "pulled", "60m", int64(2), "web.1"}
	if got := Event(e, now); !reflect.DeepEqual(got, want) {
		t.Fatalf("row = %q\nwant  %q", got, want)
	}
	e.Series = &corev1.EventSeries{Count: 7, LastObservedTime: metav1.NewMicroTime(now.Add(-5 * time.Second))}
	if got := Event(e, now); got[0] != "5s" || got[8] != int64(7) {
		t.Fatalf("with a series: %q", got)
	}
}
