package lab

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// makeTLS gives a process lab what SHOAL_TLS=1 gives a Vagrant fleet: a
// CA and one certificate per node made by `shoal tls` (so each names its
// node's address and the kubernetes Service), and marks every node's API
// https. agentArgs passes the files to the agents; pods get the CA as
// ca.crt, which is what client-go's in-cluster config needs to send its
// token at all.
func makeTLS(l *Lab, bin string) error {
	dir := filepath.Join(l.Dir, "tls")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("tls: %w", err)
	}
	run := func(args ...string) error {
		out, err := exec.Command(bin, append(append([]string{"tls"}, args...), "--dir", dir)...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("shoal tls %s: %v: %s", args[0], err, out)
		}
		return nil
	}
	if err := run("ca"); err != nil {
		return err
	}
	for i := range l.Nodes {
		n := &l.Nodes[i]
		if err := run("cert", "--name", n.Name, "--ip", n.Addr); err != nil {
			return err
		}
		n.Scheme = "https"
	}
	l.CAFile = filepath.Join(dir, "ca.pem")
	return nil
}

// tlsArgs are a process lab agent's TLS flags, none without TLS.
func tlsArgs(l *Lab, n Node) []string {
	if l.CAFile == "" || l.Machines {
		return nil
	}
	dir := filepath.Dir(l.CAFile)
	return []string{
		"--tls-cert", filepath.Join(dir, n.Name+".pem"),
		"--tls-key", filepath.Join(dir, n.Name+"-key.pem"),
		"--tls-ca", l.CAFile,
	}
}
