package consensus

import (
	"reflect"
	"sort"
	"time"

	"github.com/shoal-dev/shoal/api"
)

// CronJobs (batch/v1) are stored on their own, keyed by api.Key(namespace,
// name). The Jobs they make are ordinary Jobs with a controller reference
// to the CronJob, created by the leader's cronjob controller.

// KindCronJob is the change stream's kind of a CronJob (namespace/name).
const KindCronJob = "CronJob"

// ApplyCronJob creates a CronJob, or replaces the stored one's spec,
// labels and annotations. Create refuses an existing name (POST).
type ApplyCronJob struct {
	CronJob api.CronJob `json:"cronJob"`
	Create  bool        `json:"create,omitempty"`
	UID     api.UID     `json:"uid"` // used only when the CronJob is created
	Time    time.Time   `json:"time"`
}

// DeleteCronJob removes a CronJob; a non-empty UID must match the stored
// one. Without Orphan its Jobs and their pods go in the same entry; with
// Orphan the Jobs stay and lose their controller reference.
type DeleteCronJob struct {
	Namespace string  `json:"namespace"`
	Name      string  `json:"name"`
	UID       api.UID `json:"uid,omitempty"`
	Orphan    bool    `json:"orphan,omitempty"`
}

// UpdateCronJobStatus records what the leader's cronjob controller
// observed (or what a client PUT to /status).
type UpdateCronJobStatus struct {
	Namespace string            `json:"namespace"`
	Name      string            `json:"name"`
	UID       api.UID           `json:"uid"`
	Status    api.CronJobStatus `json:"status"`
}

// Type implements Command.
func (ApplyCronJob) Type() string { return "ApplyCronJob" }

// Type implements Command.
func (DeleteCronJob) Type() string { return "DeleteCronJob" }

// Type implements Command.
func (UpdateCronJobStatus) Type() string { return "UpdateCronJobStatus" }

func copyCronJob(cj *api.CronJob) *api.CronJob {
	out := &api.CronJob{}
	mustRoundTrip(cj, out)
	return out
}

func (s *state) putCronJob(cj *api.CronJob) {
	if s.CronJobs == nil {
		s.CronJobs = map[string]*api.CronJob{}
	}
	key := api.KeyOf(cj)
	s.CronJobs[key] = cj
	s.touch(KindCronJob, key)
}

func (s *state) applyCronJob(index uint64, c *ApplyCronJob) (*Result, error) {
	in := copyCronJob(&c.CronJob)
	api.Default(in)
	meta := &in.ObjectMeta
	ns, name := meta.Namespace, meta.Name
	if err := api.ValidateCronJob(in); err != nil {
		return nil, &InvalidError{Kind: api.KindCronJob, Namespace: ns, Name: name, Fields: api.AsFieldErrors(err)}
	}
	key := api.Key(ns, name)
	old, exists := s.CronJobs[key]
	if exists && c.Create {
		return nil, &AlreadyExistsError{Kind: api.KindCronJob, Namespace: ns, Name: name}
	}
	if !exists {
		if c.UID == "" {
			return nil, &InvalidError{Kind: api.KindCronJob, Namespace: ns, Name: name,
				Fields: api.FieldErrors{{Path: "metadata.uid", Detail: "required: the leader must choose the UID"}}}
		}
		meta.UID = c.UID
		meta.ResourceVersion = rv(index)
		meta.Generation = 1
		meta.CreationTimestamp = api.TimeOf(c.Time)
		meta.DeletionTimestamp = nil
		in.Status = api.CronJobStatus{}
		s.putCronJob(in)
		return &Result{Index: index, CronJob: copyCronJob(in), Changed: true, Created: true}, nil
	}
	om := old.ObjectMeta
	if meta.UID != "" && meta.UID != om.UID {
		return nil, &ConflictError{Kind: api.KindCronJob, Namespace: ns, Name: name,
			Reason: string("metadata.uid " + meta.UID + " does not match the stored object's " + om.UID)}
	}
	if v := meta.ResourceVersion; v != "" && v != om.ResourceVersion {
		return nil, &ConflictError{Kind: api.KindCronJob, Namespace: ns, Name: name,
			Reason: "the object has been modified (resourceVersion " + v + ", now " + om.ResourceVersion + "); read it again and retry"}
	}
	specChanged := !reflect.DeepEqual(toGeneric(old.Spec), toGeneric(in.Spec))
	managed, managedChanged := managedFieldsAfter(om.ManagedFields, meta.ManagedFields)
	if !specChanged && !managedChanged && equalStringMaps(om.Labels, meta.Labels) && equalStringMaps(om.Annotations, meta.Annotations) {
		return &Result{Index: index, CronJob: copyCronJob(old)}, nil
	}
	out := copyCronJob(old)
	out.Spec = in.Spec
	out.Labels, out.Annotations, out.ManagedFields = meta.Labels, meta.Annotations, managed
	if specChanged {
		out.Generation++
	}
	out.ResourceVersion = rv(index)
	s.putCronJob(out)
	return &Result{Index: index, CronJob: copyCronJob(out), Changed: true}, nil
}

func (s *state) deleteCronJob(index uint64, c *DeleteCronJob) (*Result, error) {
	key := api.Key(c.Namespace, c.Name)
	old, ok := s.CronJobs[key]
	if !ok {
		return nil, &NotFoundError{Kind: api.KindCronJob, Namespace: c.Namespace, Name: c.Name}
	}
	if c.UID != "" && c.UID != old.UID {
		return nil, &ConflictError{Kind: api.KindCronJob, Namespace: c.Namespace, Name: c.Name,
			Reason: string("precondition failed: uid " + c.UID + ", stored object has " + old.UID)}
	}
	keys := make([]string, 0, len(s.Jobs))
	for k := range s.Jobs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, jk := range keys {
		j := s.Jobs[jk]
		ref := api.ControllerOfMeta(&j.ObjectMeta)
		if ref == nil || ref.UID != old.UID {
			continue
		}
		if !c.Orphan {
			if _, err := s.deleteJob(index, &DeleteJob{Namespace: j.Namespace, Name: j.Name}); err != nil {
				return nil, err // unreachable: the Job was just read
			}
			continue
		}
		out := copyJob(j)
		var refs []api.OwnerReference
		for _, r := range out.OwnerReferences {
			if r.UID != old.UID {
				refs = append(refs, r)
			}
		}
		out.OwnerReferences = refs
		out.ResourceVersion = rv(index)
		s.putJob(out)
	}
	delete(s.CronJobs, key)
	s.touch(KindCronJob, key)
	return &Result{Index: index, CronJob: copyCronJob(old), Changed: true}, nil
}

func (s *state) updateCronJobStatus(index uint64, c *UpdateCronJobStatus) (*Result, error) {
	old, ok := s.CronJobs[api.Key(c.Namespace, c.Name)]
	if !ok {
		return nil, &NotFoundError{Kind: api.KindCronJob, Namespace: c.Namespace, Name: c.Name}
	}
	if c.UID != old.UID {
		return nil, &ConflictError{Kind: api.KindCronJob, Namespace: c.Namespace, Name: c.Name,
			Reason: string("uid " + c.UID + " does not match the stored object's " + old.UID)}
	}
	if reflect.DeepEqual(toGeneric(old.Status), toGeneric(c.Status)) {
		return &Result{Index: index, CronJob: copyCronJob(old)}, nil
	}
	out := copyCronJob(old)
	out.Status = c.Status
	out.ResourceVersion = rv(index)
	s.putCronJob(out)
	return &Result{Index: index, CronJob: copyCronJob(out), Changed: true}, nil
}

// cronJobGone refuses a new Job whose controller is a CronJob the state
// no longer holds: a cronjob pass that read the CronJob just before its
// delete would otherwise leave a Job nothing owns.
func (s *state) cronJobGone(j *api.Job) error {
	ref := api.ControllerOfMeta(&j.ObjectMeta)
	if ref == nil || ref.Kind != api.KindCronJob {
		return nil
	}
	if cj, ok := s.CronJobs[api.Key(j.Namespace, ref.Name)]; ok && cj.UID == ref.UID {
		return nil
	}
	return &ConflictError{Kind: api.KindJob, Namespace: j.Namespace, Name: j.Name,
		Reason: "its controller CronJob " + ref.Name + " (uid " + string(ref.UID) + ") no longer exists"}
}

// CronJob returns a copy of one CronJob.
func (f *FSM) CronJob(namespace, name string) (*api.CronJob, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	cj, ok := f.st.CronJobs[api.Key(namespace, name)]
	if !ok {
		return nil, &NotFoundError{Kind: api.KindCronJob, Namespace: namespace, Name: name}
	}
	return copyCronJob(cj), nil
}

// CronJobs returns copies of the CronJobs filter accepts (all with a nil
// filter), sorted by namespace and name, and the index they were read at.
func (f *FSM) CronJobs(filter func(*api.CronJob) bool) ([]*api.CronJob, uint64) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	keys := make([]string, 0, len(f.st.CronJobs))
	for k := range f.st.CronJobs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []*api.CronJob
	for _, k := range keys {
		if cj := f.st.CronJobs[k]; filter == nil || filter(cj) {
			out = append(out, copyCronJob(cj))
		}
	}
	return out, f.st.Index
}
