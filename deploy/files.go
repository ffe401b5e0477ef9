// Package deploy carries the install files of a shoal machine inside the
// binary: the provisioning script the Vagrantfile runs and the systemd
// unit it installs. The lab's machines mode provisions its machines with
// these very bytes, so a broken script or unit fails a test before it
// reaches a user's VMs.
package deploy

import _ "embed"

// ProvisionScript is deploy/vagrant/provision.sh.
//
//go:embed vagrant/provision.sh
var ProvisionScript []byte

// AgentUnit is deploy/systemd/shoal-agent.service.
//
//go:embed systemd/shoal-agent.service
var AgentUnit []byte
