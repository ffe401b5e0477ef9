package printers

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/api"
)

func TestPodRowShowsStatusLikeKubectl(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		pod  string
		want []any
	}{
		{
			name: "pending and unbound",
			pod:  `{"metadata":{"name":"a","creationTimestamp":"2026-01-01T11:59:30Z"},"spec":{"containers":[{"name":"c"}]},"status":{"phase":"Pending"}}`,
			want: []any{"a", "0/1", "Pending", "0", "30s", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "running and ready on a node",
			pod: `{"metadata":{"name":"b","creationTimestamp":"2026-01-01T11:00:00Z"},"spec":{"nodeName":"n1","containers":[{"name":"c"},{"name":"d"}]},
			  "status":{"phase":"Running","podIP":"10.244.0.2","containerStatuses":[
			    {"name":"c","ready":true,"restartCount":0,"state":{"running":{}}},
			    {"name":"d","ready":true,"restartCount":2,"state":{"running":{}},"lastState":{"terminated":{"exitCode":1,"finishedAt":"2026-01-01T11:55:00Z"}}}]}}`,
			want: []any{"b", "2/2", "Running", "2 (5m ago)", "60m", "10.244.0.2", "n1", "<none>", "<none>"},
		},
		{
			name: "a started sidecar counts among the containers, as kubectl counts it",
			pod: `{"metadata":{"name":"s"},"spec":{"initContainers":[{"name":"proxy","restartPolicy":"Always"}],"containers":[{"name":"c"}]},
			  "status":{"phase":"Running","conditions":[{"type":"Initialized","status":"True"},{"type":"Ready","status":"True"}],
			    "initContainerStatuses":[{"name":"proxy","ready":true,"started":true,"restartCount":1,"state":{"running":{}}}],
			    "containerStatuses":[{"name":"c","ready":true,"restartCount":0,"state":{"running":{}}}]}}`,
			want: []any{"s", "2/2", "Running", "1", "<unknown>", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "a sidecar not started yet holds the pod in Init",
			pod: `{"metadata":{"name":"t"},"spec":{"initContainers":[{"name":"proxy","restartPolicy":"Always"}],"containers":[{"name":"c"}]},
			  "status":{"phase":"Pending","initContainerStatuses":[{"name":"proxy","ready":false,"started":false,"state":{"running":{}}}],
			    "containerStatuses":[{"name":"c","state":{"waiting":{"reason":"PodInitializing"}}}]}}`,
			want: []any{"t", "0/2", "Init:0/1", "0", "<unknown>", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "crash looping container wins the status",
			pod: `{"metadata":{"name":"c"},"spec":{"containers":[{"name":"c"}]},
			  "status":{"phase":"Running","containerStatuses":[{"name":"c","restartCount":4,"state":{"waiting":{"reason":"CrashLoopBackOff"}}}]}}`,
			want: []any{"c", "0/1", "CrashLoopBackOff", "4", "<unknown>", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "init container still running",
			pod: `{"metadata":{"name":"d"},"spec":{"initContainers":[{"name":"i1"},{"name":"i2"}],"containers":[{"name":"c"}]},
			  "status":{"phase":"Pending","initContainerStatuses":[{"name":"i1","state":{"terminated":{"exitCode":0}}},{"name":"i2","state":{"running":{}}}]}}`,
			want: []any{"d", "0/1", "Init:1/2", "0", "<unknown>", "<none>", "<none>", "<none>", "<none>"},
		},
		{
			name: "killed container without a reason",
			pod: `{"metadata":{"name":"e"},"spec":{"containers":[{"name":"c"}]},
			  "status":{"phase":"Failed","containerStatuses":[{"name":"c","state":{"terminated":{"exitCode":137}}}]}}`,
			want: []any{"e", "0/1", "ExitCode:137", "0", "<unknown>", "<none>", "<none>", "<none>", "<none>"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p api.Pod
			if err := json.Unmarshal([]byte(tt.pod), &p); err != nil {
				t.Fatal(err)
			}
			if got := Pod(&p, now); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("row = %q, want %q", got, tt.want)
			}
		})
	}
}
