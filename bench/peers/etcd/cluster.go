package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// member is one etcd process on loopback with its data directory (WAL and
// snapshots) under the run's temporary directory.
type member struct {
	name, clientURL, peerURL, dir string
	cmd                           *exec.Cmd
	log                           *os.File
}

// startCluster starts n etcd members on 127.0.0.1 with fresh data
// directories under dir and returns once every member answers a status
// request. stop kills them all.
func startCluster(ctx context.Context, etcd, dir string, n int) (members []*member, stop func(), err error) {
	ports, err := freePorts(2 * n)
	if err != nil {
		return nil, nil, err
	}
	var initial []string
	for i := range n {
		m := &member{
			name:      fmt.Sprintf("m%d", i+1),
			clientURL: fmt.Sprintf("http://127.0.0.1:%d", ports[2*i]),
			peerURL:   fmt.Sprintf("http://127.0.0.1:%d", ports[2*i+1]),
		}
		m.dir = filepath.Join(dir, m.name)
		members = append(members, m)
		initial = append(initial, m.name+"="+m.peerURL)
	}
	stop = func() {
		for _, m := range members {
			if m.cmd != nil && m.cmd.Process != nil {
				_ = m.cmd.Process.Signal(syscall.SIGKILL)
				_ = m.cmd.Wait()
			}
			if m.log != nil {
				m.log.Close()
			}
		}
	}
	for _, m := range members {
		m.log, err = os.Create(filepath.Join(dir, m.name+".log"))
		if err != nil {
			stop()
			return nil, nil, err
		}
		// etcd's defaults otherwise (heartbeat 100 ms, election 1 s, fsync
		// of the WAL on every append), as a user runs it.
		m.cmd = exec.Command(etcd,
			"--name", m.name,
			"--data-dir", m.dir,
			"--listen-client-urls", m.clientURL,
			"--advertise-client-urls", m.clientURL,
			"--listen-peer-urls", m.peerURL,
			"--initial-advertise-peer-urls", m.peerURL,
			"--initial-cluster", strings.Join(initial, ","),
			"--initial-cluster-state", "new",
			"--initial-cluster-token", "shoal-bench",
		)
		m.cmd.Stdout, m.cmd.Stderr = m.log, m.log
		// Its own process group, so a ^C to the benchmark does not reach
		// it before stop does.
		m.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := m.cmd.Start(); err != nil {
			stop()
			return nil, nil, fmt.Errorf("start etcd %s: %w", m.name, err)
		}
	}
	if err := waitHealthy(ctx, members); err != nil {
		stop()
		return nil, nil, err
	}
	return members, stop, nil
}

// waitHealthy polls every member's status until each answers and they
// agree on one leader.
func waitHealthy(ctx context.Context, members []*member) error {
	deadline := time.Now().Add(30 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		if _, err := leaderOf(ctx, members); err == nil {
			return nil
		} else {
			last = err
		}
		for _, m := range members {
			if m.cmd.ProcessState != nil {
				return fmt.Errorf("etcd %s exited: %s (log %s)", m.name, m.cmd.ProcessState, m.log.Name())
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("etcd cluster not ready in 30s: %w (logs in %s)", last, filepath.Dir(members[0].log.Name()))
}

// leaderOf asks every member for its status and returns the member that
// leads, once all answer and agree.
func leaderOf(ctx context.Context, members []*member) (*member, error) {
	var urls []string
	for _, m := range members {
		urls = append(urls, m.clientURL)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: urls, DialTimeout: time.Second, Logger: zap.NewNop()})
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	ids := map[uint64]*member{}
	var leader uint64
	for _, m := range members {
		sctx, cancel := context.WithTimeout(ctx, time.Second)
		st, err := cli.Status(sctx, m.clientURL)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("status of %s: %w", m.name, err)
		}
		ids[st.Header.MemberId] = m
		if st.Leader == 0 || (leader != 0 && st.Leader != leader) {
			return nil, errors.New("no agreed leader yet")
		}
		leader = st.Leader
	}
	if m := ids[leader]; m != nil {
		return m, nil
	}
	return nil, fmt.Errorf("leader %x is not one of the members", leader)
}

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free loopback port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
