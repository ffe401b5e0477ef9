package api

import (
	"fmt"
	"regexp"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
)

// scheme registers exactly the kinds shoal serves, in the versions it
// serves them; it is built once and only read after.
var scheme = newScheme()

// codecs are apimachinery's serializers (JSON, YAML, protobuf) over the
// scheme, strict: an unknown or duplicated field is an error.
var codecs = serializer.NewCodecFactory(scheme, serializer.EnableStrict)

// Strict JSON and YAML decoders over the scheme.
var (
	strictJSON = kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme,
		kjson.SerializerOptions{Strict: true})
	strictYAML = kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme,
		kjson.SerializerOptions{Yaml: true, Strict: true})
)

func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	s.AddKnownTypes(corev1.SchemeGroupVersion,
		&Pod{}, &PodList{}, &Node{}, &NodeList{},
		&ReplicationController{}, &ReplicationControllerList{},
		&Secret{}, &SecretList{}, &Event{}, &EventList{},
		&Service{}, &ServiceList{}, &Endpoints{}, &EndpointsList{},
		&ConfigMap{}, &ConfigMapList{})
	s.AddKnownTypes(corev1.SchemeGroupVersion, &Namespace{}, &NamespaceList{})
	s.AddKnownTypes(corev1.SchemeGroupVersion, &ServiceAccount{}, &ServiceAccountList{}) // serviceaccount.go
	s.AddKnownTypes(appsv1.SchemeGroupVersion, &ReplicaSet{}, &ReplicaSetList{}, &Deployment{}, &DeploymentList{})
	s.AddKnownTypes(appsv1.SchemeGroupVersion, &DaemonSet{}, &DaemonSetList{})
	s.AddKnownTypes(appsv1.SchemeGroupVersion, &ControllerRevision{}, &ControllerRevisionList{})
	s.AddKnownTypes(autoscalingv1.SchemeGroupVersion, &Scale{})
	s.AddKnownTypes(discoveryv1.SchemeGroupVersion, &EndpointSlice{}, &EndpointSliceList{})
	s.AddKnownTypes(batchv1.SchemeGroupVersion, &Job{}, &JobList{}, &CronJob{}, &CronJobList{})
	s.AddKnownTypes(coordinationv1.SchemeGroupVersion, &Lease{}, &LeaseList{}) // lease.go
	metav1.AddToGroupVersion(s, coordinationv1.SchemeGroupVersion)
	for _, gv := range []schema.GroupVersion{corev1.SchemeGroupVersion, appsv1.SchemeGroupVersion, autoscalingv1.SchemeGroupVersion, discoveryv1.SchemeGroupVersion, batchv1.SchemeGroupVersion} {
		metav1.AddToGroupVersion(s, gv)
	}
	addReviewKinds(s)
	return s
}

// addReviewKinds registers the reviews kubectl auth sends (answered by
// agent/apiserver/auth_reviews.go, never stored), so that their protobuf
// bodies decode.
func addReviewKinds(s *runtime.Scheme) {
	s.AddKnownTypes(authzv1.SchemeGroupVersion, &authzv1.SelfSubjectAccessReview{}, &authzv1.SelfSubjectRulesReview{})
	s.AddKnownTypes(authnv1.SchemeGroupVersion, &authnv1.SelfSubjectReview{})
	s.AddKnownTypes(authnv1.SchemeGroupVersion, &authnv1.TokenRequest{}) // serviceaccounts/token
	metav1.AddToGroupVersion(s, authzv1.SchemeGroupVersion)
	metav1.AddToGroupVersion(s, authnv1.SchemeGroupVersion)
}

// Scheme is the scheme of the served kinds, for the API server's
// serializers (protobuf, watch events).
func Scheme() *runtime.Scheme { return scheme }

// Codecs are the scheme's serializers.
func Codecs() serializer.CodecFactory { return codecs }

// decodeStrict decodes one JSON or YAML document into into through the
// scheme's strict serializer. Unknown and duplicated fields come back as
// FieldErrors naming their paths; a value of the wrong type is explained
// with its path too.
func decodeStrict(data []byte, into runtime.Object) error {
	dec := strictYAML
	if isJSON(data) {
		dec = strictJSON
	}
	_, _, err := dec.Decode(data, nil, into)
	if err == nil {
		return nil
	}
	if sde, ok := runtime.AsStrictDecodingError(err); ok {
		return strictFieldErrors(sde.Errors())
	}
	if errs := explainDecodeError(data, into); len(errs) > 0 {
		return errs
	}
	return fmt.Errorf("decode: %w", err)
}

// strictFieldRE reads one of the strict decoder's complaints:
// `unknown field "spec.containers[0].bogus"` or `duplicate field "x"`.
var strictFieldRE = regexp.MustCompile(`^(unknown|duplicate) field "(.*)"$`)

func strictFieldErrors(strictErrs []error) error {
	var errs FieldErrors
	for _, e := range strictErrs {
		m := strictFieldRE.FindStringSubmatch(e.Error())
		if m == nil {
			errs = append(errs, &FieldError{Path: "<root>", Detail: e.Error()})
			continue
		}
		errs = append(errs, &FieldError{Path: orRoot(m[2]), Detail: m[1] + " field"})
	}
	return errs
}

func isJSON(data []byte) bool {
	for _, b := range data {
		switch b {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return true
		}
		return false
	}
	return false
}

// NewOfDocument returns an empty object of the served kind a JSON document
// names by apiVersion and kind, or nil when it names none (patches use it
// to read a kind's list merge keys from its Go type).
func NewOfDocument(js []byte) runtime.Object {
	gvk, err := kjson.DefaultMetaFactory.Interpret(js)
	if err != nil || gvk.Kind == "" {
		return nil
	}
	obj, err := scheme.New(*gvk)
	if err != nil {
		return nil
	}
	return obj
}
