// Command fakeagent stands in for `shoal agent` in the lab package's tests.
// It accepts exactly the agent's flag contract, serves the two endpoints the
// lab polls, and builds its node list by probing its peers' addresses over
// the lab network, so a lab is Ready only if its nodes reach each other.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"sort"
	"sync"
	"syscall"
	"time"
)

type healthz struct {
	Name  string `json:"name"`
	MntNS string `json:"mntns"`
	NetNS string `json:"netns"`
}

func main() {
	if len(os.Args) < 2 || os.Args[1] != "agent" {
		log.Fatal("usage: fakeagent agent --name ...")
	}
	fs := flag.NewFlagSet("agent", flag.ExitOnError)
	name := fs.String("name", "", "")
	dataDir := fs.String("data-dir", "", "")
	bind := fs.String("bind-addr", "", "")
	apiPort := fs.Int("api-port", 0, "")
	fs.Int("raft-port", 0, "")
	fs.Int("gossip-port", 0, "")
	join := fs.String("join", "", "")
	fs.Int("bootstrap-expect", 0, "")
	fs.Int("servers", 0, "")
	ctrd := fs.String("containerd", "", "")
	fs.String("containerd-namespace", "", "")
	fs.String("netns-prefix", "", "")
	fs.String("pod-cidr", "", "")
	fs.String("service-cidr", "", "")
	fs.Bool("service-route", false, "")
	fs.String("memory", "", "")
	fs.String("cpu", "", "")
	fs.String("labels", "", "")
	fs.String("insecure-registry", "", "")
	fs.String("image-fs", "", "")
	_ = fs.Parse(os.Args[2:])
	if *name == "" || *dataDir == "" || *bind == "" || *apiPort == 0 {
		log.Fatal("missing --name, --data-dir, --bind-addr or --api-port")
	}
	if _, err := os.Stat(*ctrd); err != nil {
		log.Fatalf("containerd socket: %v", err)
	}
	self, err := netip.ParseAddr(*bind)
	if err != nil {
		log.Fatal(err)
	}
	mnt, _ := os.Readlink("/proc/self/ns/mnt")
	nt, _ := os.Readlink("/proc/self/ns/net")
	me := healthz{Name: *name, MntNS: mnt, NetNS: nt}

	client := &http.Client{Timeout: 300 * time.Millisecond}
	probe := func(addr netip.Addr) (healthz, bool) {
		var h healthz
		resp, err := client.Get(fmt.Sprintf("http://%s/healthz", net.JoinHostPort(addr.String(), fmt.Sprint(*apiPort))))
		if err != nil {
			return h, false
		}
		defer resp.Body.Close()
		return h, json.NewDecoder(resp.Body).Decode(&h) == nil
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(me)
	})
	mux.HandleFunc("GET /shoal/v1/cluster", func(w http.ResponseWriter, r *http.Request) {
		leader := *name
		if *join != "" {
			host, _, _ := net.SplitHostPort(*join)
			h, ok := probe(netip.MustParseAddr(host))
			leader = h.Name
			if !ok {
				leader = ""
			}
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"leader": leader})
	})
	mux.HandleFunc("GET /api/v1/nodes", func(w http.ResponseWriter, r *http.Request) {
		b := self.As4()
		var mu sync.Mutex
		var names []string
		var wg sync.WaitGroup
		for k := 1; k <= 32; k++ {
			addr := netip.AddrFrom4([4]byte{b[0], b[1], b[2], byte(10 + k)})
			wg.Add(1)
			go func() {
				defer wg.Done()
				if h, ok := probe(addr); ok {
					mu.Lock()
					names = append(names, h.Name)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		sort.Strings(names)
		type cond struct {
			Type   string `json:"type"`
			Status string `json:"status"`
		}
		type item struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
			Status struct {
				Conditions []cond `json:"conditions"`
			} `json:"status"`
		}
		list := struct {
			Kind  string `json:"kind"`
			Items []item `json:"items"`
		}{Kind: "NodeList"}
		for _, n := range names {
			var it item
			it.Metadata.Name = n
			it.Status.Conditions = []cond{{Type: "Ready", Status: "True"}}
			list.Items = append(list.Items, it)
		}
		_ = json.NewEncoder(w).Encode(list)
	})

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	srv := &http.Server{Addr: net.JoinHostPort(*bind, fmt.Sprint(*apiPort)), Handler: mux}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	log.Printf("fakeagent %s serving on %s", *name, srv.Addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
