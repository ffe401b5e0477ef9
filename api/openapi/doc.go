// Package openapi holds the OpenAPI definitions of exactly the kinds shoal
// serves and what they reach, as kube-openapi's openapi-gen writes them for
// the k8s.io/api types (zz_generated.openapi.go, made by gen.sh). The API
// server builds /openapi/v2 and /openapi/v3 from them.
package openapi
