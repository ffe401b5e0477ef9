package consensus

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"log/slog"
	"math/big"
	"net"
	"testing"
	"time"
)

// testTLS makes a CA and a certificate for 127.0.0.1 usable to serve and
// to dial, and returns the Raft TLS config and the CA pool.
func testTLS(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "raft test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "server"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, RootCAs: pool, MinVersion: tls.VersionTLS12}, pool
}

func TestRaftOverMutualTLSReplicatesAndRefusesPeersWithoutACertificate(t *testing.T) {
	tlsCfg, pool := testTLS(t)
	servers := make([]*server, 3)
	var members []Server
	for i := range servers {
		s := &server{id: "tls-" + string(rune('a'+i)), dir: t.TempDir(), fsm: NewFSM()}
		r, err := OpenOnDisk(loopbackTimings(Config{ID: s.id, DataDir: s.dir, BindAddr: "127.0.0.1:0", Log: testLogger(), RaftLogLevel: slog.LevelInfo, TLS: tlsCfg}), s.fsm)
		if err != nil {
			t.Fatalf("open %s: %v", s.id, err)
		}
		s.raft, s.addr = r, r.Addr()
		t.Cleanup(func() { s.stop(t) })
		servers[i] = s
		members = append(members, Server{ID: s.id, Address: s.addr, Voter: true})
	}
	for _, s := range servers {
		if err := s.raft.BootstrapIfNew(members); err != nil {
			t.Fatal(err)
		}
	}
	leader := waitLeader(t, servers)
	res := applyOK(t, leader.raft, node("n1", "2Gi", "10.0.0.1"))
	for _, s := range servers {
		waitIndex(t, s, res.Index)
	}

	// A peer that trusts the CA but shows no certificate of its own is
	// cut off before it can say anything to Raft.
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", leader.addr, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	if err == nil {
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		_, err = conn.Read(make([]byte, 1))
		conn.Close()
	}
	if err == nil {
		t.Fatal("a peer without a client certificate was served")
	}
	if leader.fsm.Index() < res.Index {
		t.Fatal("state lost")
	}
}
