package consensus

// apply runs one command against the state. It must be deterministic: it
// reads only the state and the command. On error the state is untouched:
// every handler checks first and mutates last.
func (s *state) apply(index uint64, cmd Command) (*Result, error) {
	switch c := asPointer(cmd).(type) {
	case *RegisterNode:
		return s.registerNode(index, c)
	case *SetNodeCondition:
		return s.setNodeReady(index, c)
	case *CreatePod:
		return s.createPod(index, &c.Pod, c.UID, c.Time)
	case *ApplyPod:
		return s.applyPod(index, c)
	case *DeletePod:
		return s.deletePod(index, c)
	case *BindPod:
		return s.bindPod(index, c)
	case *SetPodUnschedulable:
		return s.setPodUnschedulable(index, c)
	case *UpdatePodStatus:
		return s.updatePodStatus(index, c)
	case *ApplyController:
		return s.applyController(index, c)
	case *DeleteController:
		return s.deleteController(index, c)
	case *ScaleController:
		return s.scaleController(index, c)
	case *UpdateControllerStatus:
		return s.updateControllerStatus(index, c)
	case *UpdateDeploymentStatus:
		return s.updateDeploymentStatus(index, c)
	case *RecordEvents:
		return s.recordEvents(index, c)
	case *ApplyEvent:
		return s.applyEvent(index, c)
	case *DeleteEvent:
		return s.deleteEvent(index, c)
	case *ApplyDaemonSet:
		return s.applyDaemonSet(index, c)
	case *DeleteDaemonSet:
		return s.deleteDaemonSet(index, c)
	case *UpdateDaemonSetStatus:
		return s.updateDaemonSetStatus(index, c)
	case *PutControllerRevision:
		return s.putControllerRevision(index, c)
	case *DeleteControllerRevision:
		return s.deleteControllerRevision(index, c)
	case *ApplySecret:
		return s.applySecret(index, c)
	case *DeleteSecret:
		return s.deleteSecret(index, c)
	case *ApplyConfigMap:
		return s.applyConfigMap(index, c)
	case *DeleteConfigMap:
		return s.deleteConfigMap(index, c)
	case *ApplyServiceAccount:
		return s.applyServiceAccount(index, c)
	case *DeleteServiceAccount:
		return s.deleteServiceAccount(index, c)
	case *ApplyService:
		return s.applyService(index, c)
	case *DeleteService:
		return s.deleteService(index, c)
	case *PutEndpoints:
		return s.putEndpoints(index, c)
	case *DeleteEndpoints:
		return s.deleteEndpoints(index, c)
	case *PutEndpointSlice:
		return s.putEndpointSlice(index, c)
	case *DeleteEndpointSlice:
		return s.deleteEndpointSlice(index, c)
	case *ApplyNamespace:
		return s.applyNamespace(index, c)
	case *DeleteNamespace:
		return s.deleteNamespace(index, c)
	case *FinalizeNamespace:
		return s.finalizeNamespace(index, c)
	case *DeleteObject:
		return s.deleteObject(index, c)
	case *SetControllerRef:
		return s.setControllerRef(index, c)
	case *ApplyJob:
		return s.applyJob(index, c)
	case *DeleteJob:
		return s.deleteJob(index, c)
	case *UpdateJobStatus:
		return s.updateJobStatus(index, c)
	case *ApplyCronJob:
		return s.applyCronJob(index, c)
	case *DeleteCronJob:
		return s.deleteCronJob(index, c)
	case *UpdateCronJobStatus:
		return s.updateCronJobStatus(index, c)
	case *UpdateNode:
		return s.updateNode(index, c)
	case *ApplyLease:
		return s.applyLease(index, c)
	case *DeleteLease:
		return s.deleteLease(index, c)
	case *RenewNodeLeases:
		return s.renewNodeLeases(index, c)
	case *CreatePods:
		return s.createPods(index, c)
	case *BindPods:
		return s.bindPods(index, c)
	}
	return nil, rejectf("unsupported command %T", cmd)
}

// asPointer accepts commands passed by value as well as by pointer, since
// both satisfy Command.
func asPointer(cmd Command) Command {
	switch c := cmd.(type) {
	case RegisterNode:
		return &c
	case SetNodeCondition:
		return &c
	case CreatePod:
		return &c
	case ApplyPod:
		return &c
	case DeletePod:
		return &c
	case BindPod:
		return &c
	case SetPodUnschedulable:
		return &c
	case UpdatePodStatus:
		return &c
	case ApplyController:
		return &c
	case DeleteController:
		return &c
	case ScaleController:
		return &c
	case UpdateControllerStatus:
		return &c
	case UpdateDeploymentStatus:
		return &c
	case RecordEvents:
		return &c
	case ApplyEvent:
		return &c
	case DeleteEvent:
		return &c
	case ApplyDaemonSet:
		return &c
	case DeleteDaemonSet:
		return &c
	case UpdateDaemonSetStatus:
		return &c
	case PutControllerRevision:
		return &c
	case DeleteControllerRevision:
		return &c
	case ApplySecret:
		return &c
	case DeleteSecret:
		return &c
	case ApplyConfigMap:
		return &c
	case DeleteConfigMap:
		return &c
	case ApplyServiceAccount:
		return &c
	case DeleteServiceAccount:
		return &c
	case ApplyService:
		return &c
	case DeleteService:
		return &c
	case PutEndpoints:
		return &c
	case DeleteEndpoints:
		return &c
	case PutEndpointSlice:
		return &c
	case DeleteEndpointSlice:
		return &c
	case ApplyNamespace:
		return &c
	case DeleteNamespace:
		return &c
	case FinalizeNamespace:
		return &c
	case DeleteObject:
		return &c
	case SetControllerRef:
		return &c
	case ApplyJob:
		return &c
	case DeleteJob:
		return &c
	case UpdateJobStatus:
		return &c
	case ApplyCronJob:
		return &c
	case DeleteCronJob:
		return &c
	case UpdateCronJobStatus:
		return &c
	case UpdateNode:
		return &c
	case ApplyLease:
		return &c
	case DeleteLease:
		return &c
	case RenewNodeLeases:
		return &c
	case CreatePods:
		return &c
	case BindPods:
		return &c
	}
	return cmd
}
