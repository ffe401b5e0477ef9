package main

import (
	"testing"

	"github.com/shoal-dev/shoal/api"
)

func TestCreateSecretDockerRegistryWritesWhatNodesRead(t *testing.T) {
	cfg, err := dockerConfigJSON("reg.example:5000", "ci", "p:w", "")
	if err != nil {
		t.Fatal(err)
	}
	logins, err := api.ParseDockerConfigJSON(cfg)
	if err != nil || len(logins) != 1 || logins[0] != (api.DockerLogin{Registry: "reg.example:5000", Username: "ci", Password: "p:w"}) {
		t.Fatalf("logins %+v, %v", logins, err)
	}
}
