package api

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	corev1 "k8s.io/api/core/v1"
	"regexp"
	"sort"
	"strings"
)

// Secret types shoal knows; any other type is stored as opaque data.
const (
	SecretTypeOpaque           = corev1.SecretTypeOpaque
	SecretTypeDockerConfigJSON = corev1.SecretTypeDockerConfigJson
	// DockerConfigJSONKey is the data key of a dockerconfigjson Secret.
	DockerConfigJSONKey = corev1.DockerConfigJsonKey
	// maxSecretBytes is Kubernetes' limit on a Secret's data.
	maxSecretBytes = 1 << 20
)

// A Secret (core/v1) holds small pieces of sensitive data: data values are
// bytes (base64 in JSON and YAML); stringData is a write-only convenience
// merged into data when the Secret is stored.

func defaultSecret(s *Secret) {
	s.APIVersion, s.Kind = V1, KindSecret
	if s.Namespace == "" {
		s.Namespace = DefaultNamespace
	}
	if s.Type == "" {
		s.Type = SecretTypeOpaque
	}
	// As in Kubernetes, stringData wins over data for the same key.
	for k, v := range s.StringData {
		if s.Data == nil {
			s.Data = map[string][]byte{}
		}
		s.Data[k] = []byte(v)
	}
	s.StringData = nil
}

var secretKeyRE = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)

// ValidateSecret checks a defaulted Secret; the error never quotes a value.
func ValidateSecret(s *Secret) error {
	var errs FieldErrors
	errs = append(errs, validateName("metadata.name", s.Name)...)
	errs = append(errs, validateDNSLabel("metadata.namespace", s.Namespace)...)
	errs = append(errs, validateLabels("metadata.labels", s.Labels)...)
	size := 0
	keys := make([]string, 0, len(s.Data))
	for k, v := range s.Data {
		keys = append(keys, k)
		size += len(k) + len(v)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if len(k) > 253 || !secretKeyRE.MatchString(k) {
			errs = append(errs, &FieldError{Path: "data", Value: k, Detail: "a key must be letters, digits, '-', '_' or '.', at most 253 of them"})
		}
	}
	if size > maxSecretBytes {
		errs = append(errs, &FieldError{Path: "data", Detail: fmt.Sprintf("%d bytes: a Secret holds at most %d", size, maxSecretBytes)})
	}
	if s.Type == SecretTypeDockerConfigJSON {
		raw, ok := s.Data[DockerConfigJSONKey]
		if !ok {
			errs = append(errs, &FieldError{Path: "data[.dockerconfigjson]", Detail: "required for type " + string(SecretTypeDockerConfigJSON)})
		} else if _, err := ParseDockerConfigJSON(raw); err != nil {
			errs = append(errs, &FieldError{Path: "data[.dockerconfigjson]", Detail: err.Error()})
		}
	}
	return errs.orNil()
}

// DockerLogin is one entry of a docker config's "auths".
type DockerLogin struct {
	Registry string
	Username string
	Password string
}

// ParseDockerConfigJSON reads the .dockerconfigjson of a pull secret:
// {"auths": {"REGISTRY": {"username": U, "password": P}}} or with "auth"
// holding base64("U:P"), as `docker login` writes it. Errors never quote
// the credentials.
func ParseDockerConfigJSON(raw []byte) ([]DockerLogin, error) {
	var doc struct {
		Auths map[string]struct {
			Username string `json:"username"`
			Password string `json:"password"`
			Auth     string `json:"auth"`
		} `json:"auths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("not a docker config JSON document")
	}
	if doc.Auths == nil {
		return nil, fmt.Errorf(`no "auths" object`)
	}
	regs := make([]string, 0, len(doc.Auths))
	for r := range doc.Auths {
		regs = append(regs, r)
	}
	sort.Strings(regs)
	out := make([]DockerLogin, 0, len(regs))
	for _, r := range regs {
		e := doc.Auths[r]
		l := DockerLogin{Registry: r, Username: e.Username, Password: e.Password}
		if e.Auth != "" {
			dec, err := base64.StdEncoding.DecodeString(e.Auth)
			if err != nil {
				return nil, fmt.Errorf("auths[%s].auth: not base64", r)
			}
			u, p, ok := strings.Cut(string(dec), ":")
			if !ok {
				return nil, fmt.Errorf("auths[%s].auth: want base64 of username:password", r)
			}
			l.Username, l.Password = u, p
		}
		if l.Username == "" && l.Password == "" {
			return nil, fmt.Errorf("auths[%s]: no username/password or auth", r)
		}
		out = append(out, l)
	}
	return out, nil
}
