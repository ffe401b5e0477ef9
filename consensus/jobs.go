package consensus

import (
	"reflect"
	"sort"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// Jobs (batch/v1) are stored on their own, keyed by api.Key(namespace,
// name). Their pods are ordinary pods with a controller reference to the
// Job, created by the leader's job controller through CreatePod like any
// replica.

// KindJob is the change stream's kind of a Job (namespace/name).
const KindJob = "Job"

// ApplyJob creates a Job, or updates the stored one. Create refuses an
// existing name (POST). Without spec.manualSelector the selector and the
// template's controller-uid and job-name labels are generated from the
// UID, as Kubernetes does; the template, selector, completions and
// completion mode never change after creation.
type ApplyJob struct {
	Job    api.Job   `json:"job"`
	Create bool      `json:"create,omitempty"`
	UID    api.UID   `json:"uid"` // used only when the Job is created
	Time   time.Time `json:"time"`
}

// DeleteJob removes a Job; a non-empty UID must match the stored one.
// Without Orphan its pods go in the same entry; with Orphan they stay and
// lose their controller reference.
type DeleteJob struct {
	Namespace string  `json:"namespace"`
	Name      string  `json:"name"`
	UID       api.UID `json:"uid,omitempty"`
	Orphan    bool    `json:"orphan,omitempty"`
}

// UpdateJobStatus records what the leader's job controller observed (or
// what a client PUT to /status).
type UpdateJobStatus struct {
	Namespace string        `json:"namespace"`
	Name      string        `json:"name"`
	UID       api.UID       `json:"uid"`
	Status    api.JobStatus `json:"status"`
}

// Type implements Command.
func (ApplyJob) Type() string { return "ApplyJob" }

// Type implements Command.
func (DeleteJob) Type() string { return "DeleteJob" }

// Type implements Command.
func (UpdateJobStatus) Type() string { return "UpdateJobStatus" }

func copyJob(j *api.Job) *api.Job {
	out := &api.Job{}
	mustRoundTrip(j, out)
	return out
}

func (s *state) putJob(j *api.Job) {
	if s.Jobs == nil {
		s.Jobs = map[string]*api.Job{}
	}
	key := api.KeyOf(j)
	s.Jobs[key] = j
	s.touch(KindJob, key)
}

func (s *state) applyJob(index uint64, c *ApplyJob) (*Result, error) {
	in := copyJob(&c.Job)
	api.Default(in)
	meta := &in.ObjectMeta
	ns, name := meta.Namespace, meta.Name
	invalid := func(err error) error {
		return &InvalidError{Kind: api.KindJob, Namespace: ns, Name: name, Fields: api.AsFieldErrors(err)}
	}
	key := api.Key(ns, name)
	old, exists := s.Jobs[key]
	if exists && c.Create {
		return nil, &AlreadyExistsError{Kind: api.KindJob, Namespace: ns, Name: name}
	}
	uid := c.UID
	if exists {
		uid = old.UID
	} else if uid == "" {
		return nil, invalid(api.FieldErrors{{Path: "metadata.uid", Detail: "required: the leader must choose the UID"}})
	}
	api.GenerateJobSelector(in, uid)
	if err := api.ValidateJob(in); err != nil {
		return nil, invalid(err)
	}
	if err := api.ValidateJobSelector(in, uid); err != nil {
		return nil, invalid(err)
	}
	if !exists {
		if err := s.cronJobGone(in); err != nil {
			return nil, err
		}
		meta.UID = uid
		meta.ResourceVersion = rv(index)
		meta.Generation = 1
		meta.CreationTimestamp = api.TimeOf(c.Time)
		meta.DeletionTimestamp = nil
		// Status belongs to the job controller, whatever the manifest said.
		in.Status = api.JobStatus{}
		s.putJob(in)
		return &Result{Index: index, Job: copyJob(in), Changed: true, Created: true}, nil
	}
	om := old.ObjectMeta
	if meta.UID != "" && meta.UID != om.UID {
		return nil, &ConflictError{Kind: api.KindJob, Namespace: ns, Name: name,
			Reason: string("metadata.uid " + meta.UID + " does not match the stored object's " + om.UID)}
	}
	if v := meta.ResourceVersion; v != "" && v != om.ResourceVersion {
		return nil, &ConflictError{Kind: api.KindJob, Namespace: ns, Name: name,
			Reason: "the object has been modified (resourceVersion " + v + ", now " + om.ResourceVersion + "); read it again and retry"}
	}
	if err := jobImmutable(&old.Spec, &in.Spec); err != nil {
		return nil, invalid(err)
	}
	specChanged := !reflect.DeepEqual(toGeneric(old.Spec), toGeneric(in.Spec))
	managed, managedChanged := managedFieldsAfter(om.ManagedFields, meta.ManagedFields)
	if !specChanged && !managedChanged && equalStringMaps(om.Labels, meta.Labels) && equalStringMaps(om.Annotations, meta.Annotations) {
		return &Result{Index: index, Job: copyJob(old)}, nil
	}
	out := copyJob(old)
	out.Spec = in.Spec
	out.Labels, out.Annotations, out.ManagedFields = meta.Labels, meta.Annotations, managed
	if specChanged {
		out.Generation++
	}
	out.ResourceVersion = rv(index)
	s.putJob(out)
	return &Result{Index: index, Job: copyJob(out), Changed: true}, nil
}

// jobImmutable names the first field of a Job's spec that an update may
// not change, as Kubernetes' job validation does.
func jobImmutable(old, in *api.JobSpec) error {
	var errs api.FieldErrors
	for _, f := range []struct {
		path    string
		was, is any
	}{
		{"spec.completions", old.Completions, in.Completions},
		{"spec.completionMode", old.CompletionMode, in.CompletionMode},
		{"spec.selector", old.Selector, in.Selector},
		{"spec.manualSelector", old.ManualSelector, in.ManualSelector},
		{"spec.template", old.Template, in.Template},
	} {
		if !reflect.DeepEqual(toGeneric(f.was), toGeneric(f.is)) {
			errs = append(errs, &api.FieldError{Path: f.path, Detail: "field is immutable"})
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

func (s *state) deleteJob(index uint64, c *DeleteJob) (*Result, error) {
	key := api.Key(c.Namespace, c.Name)
	old, ok := s.Jobs[key]
	if !ok {
		return nil, &NotFoundError{Kind: api.KindJob, Namespace: c.Namespace, Name: c.Name}
	}
	if c.UID != "" && c.UID != old.UID {
		return nil, &ConflictError{Kind: api.KindJob, Namespace: c.Namespace, Name: c.Name,
			Reason: string("precondition failed: uid " + c.UID + ", stored object has " + old.UID)}
	}
	for _, pk := range s.sortedPodKeys() {
		p := s.Pods[pk]
		ref := api.ControllerOf(p)
		if ref == nil || ref.UID != old.UID {
			continue
		}
		if !c.Orphan {
			s.removePod(pk)
			continue
		}
		p = copyPod(p)
		var refs []api.OwnerReference
		for _, r := range p.ObjectMeta.OwnerReferences {
			if r.UID != old.UID {
				refs = append(refs, r)
			}
		}
		p.ObjectMeta.OwnerReferences = refs
		p.ObjectMeta.ResourceVersion = rv(index)
		s.putPod(pk, p)
	}
	delete(s.Jobs, key)
	s.touch(KindJob, key)
	return &Result{Index: index, Job: copyJob(old), Changed: true}, nil
}

func (s *state) updateJobStatus(index uint64, c *UpdateJobStatus) (*Result, error) {
	old, ok := s.Jobs[api.Key(c.Namespace, c.Name)]
	if !ok {
		return nil, &NotFoundError{Kind: api.KindJob, Namespace: c.Namespace, Name: c.Name}
	}
	if c.UID != old.UID {
		return nil, &ConflictError{Kind: api.KindJob, Namespace: c.Namespace, Name: c.Name,
			Reason: string("uid " + c.UID + " does not match the stored object's " + old.UID)}
	}
	if reflect.DeepEqual(toGeneric(old.Status), toGeneric(c.Status)) {
		return &Result{Index: index, Job: copyJob(old)}, nil
	}
	out := copyJob(old)
	out.Status = c.Status
	out.ResourceVersion = rv(index)
	s.putJob(out)
	return &Result{Index: index, Job: copyJob(out), Changed: true}, nil
}

// jobHolds tells whether the state holds the Job a pod's controller
// reference names (createPod refuses pods for a Job that is gone).
func (s *state) jobHolds(ns string, ref *api.OwnerReference) bool {
	j, ok := s.Jobs[api.Key(ns, ref.Name)]
	return ok && j.UID == ref.UID
}

// Job returns a copy of one Job.
func (f *FSM) Job(namespace, name string) (*api.Job, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	j, ok := f.st.Jobs[api.Key(namespace, name)]
	if !ok {
		return nil, &NotFoundError{Kind: api.KindJob, Namespace: namespace, Name: name}
	}
	return copyJob(j), nil
}

// Jobs returns copies of the Jobs filter accepts (all with a nil filter),
// sorted by namespace and name, and the index they were read at.
func (f *FSM) Jobs(filter func(*api.Job) bool) ([]*api.Job, uint64) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	keys := make([]string, 0, len(f.st.Jobs))
	for k := range f.st.Jobs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []*api.Job
	for _, k := range keys {
		if j := f.st.Jobs[k]; filter == nil || filter(j) {
			out = append(out, copyJob(j))
		}
	}
	return out, f.st.Index
}
