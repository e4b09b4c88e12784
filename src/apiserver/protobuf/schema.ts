/**
 * Field-number tables for the Kubernetes protobuf messages that typed clients
 * (every `kubectl create <generator>`, `auth can-i`, protobuf DELETEs) send.
 *
 * Why hand-kept tables: there is no well-kept TypeScript schema or generated
 * code for the k8s.io protobufs, and a general protobuf library would still
 * need the .proto files. These are facts transcribed from the upstream
 * `generated.proto` files (kubernetes/api, kubernetes/apimachinery), one line
 * per message: `<number>:<jsonName>:<type>` where type is `s` string, `b`
 * bytes, `i` varint integer, `t` bool, `d` double, a message name, `*` prefix
 * for repeated, `@` prefix for map<string, type>. Messages referenced but not
 * listed are skipped when decoding.
 */
export const messages: Record<string, string> = {
  'apps.ControllerRevision': '1:metadata:meta.ObjectMeta 2:data:runtime.RawExtension 3:revision:i',
  'apps.DaemonSet': '1:metadata:meta.ObjectMeta 2:spec:apps.DaemonSetSpec 3:status:apps.DaemonSetStatus',
  'apps.DaemonSetCondition': '1:type:s 2:status:s 3:lastTransitionTime:meta.Time 4:reason:s 5:message:s',
  'apps.DaemonSetSpec':
    '1:selector:meta.LabelSelector 2:template:core.PodTemplateSpec 3:updateStrategy:apps.DaemonSetUpdateStrategy 4:minReadySeconds:i 6:revisionHistoryLimit:i',
  'apps.DaemonSetStatus':
    '1:currentNumberScheduled:i 2:numberMisscheduled:i 3:desiredNumberScheduled:i 4:numberReady:i 5:observedGeneration:i 6:updatedNumberScheduled:i 7:numberAvailable:i 8:numberUnavailable:i 9:collisionCount:i 10:conditions:*apps.DaemonSetCondition',
  'apps.DaemonSetUpdateStrategy': '1:type:s 2:rollingUpdate:apps.RollingUpdateDaemonSet',
  'apps.Deployment': '1:metadata:meta.ObjectMeta 2:spec:apps.DeploymentSpec 3:status:apps.DeploymentStatus',
  'apps.DeploymentCondition':
    '1:type:s 2:status:s 6:lastUpdateTime:meta.Time 7:lastTransitionTime:meta.Time 4:reason:s 5:message:s',
  'apps.DeploymentSpec':
    '1:replicas:i 2:selector:meta.LabelSelector 3:template:core.PodTemplateSpec 4:strategy:apps.DeploymentStrategy 5:minReadySeconds:i 6:revisionHistoryLimit:i 7:paused:t 9:progressDeadlineSeconds:i',
  'apps.DeploymentStatus':
    '1:observedGeneration:i 2:replicas:i 3:updatedReplicas:i 7:readyReplicas:i 4:availableReplicas:i 5:unavailableReplicas:i 9:terminatingReplicas:i 6:conditions:*apps.DeploymentCondition 8:collisionCount:i',
  'apps.DeploymentStrategy': '1:type:s 2:rollingUpdate:apps.RollingUpdateDeployment',
  'apps.ReplicaSet': '1:metadata:meta.ObjectMeta 2:spec:apps.ReplicaSetSpec 3:status:apps.ReplicaSetStatus',
  'apps.ReplicaSetCondition': '1:type:s 2:status:s 3:lastTransitionTime:meta.Time 4:reason:s 5:message:s',
  'apps.ReplicaSetSpec':
    '1:replicas:i 4:minReadySeconds:i 2:selector:meta.LabelSelector 3:template:core.PodTemplateSpec',
  'apps.ReplicaSetStatus':
    '1:replicas:i 2:fullyLabeledReplicas:i 4:readyReplicas:i 5:availableReplicas:i 7:terminatingReplicas:i 3:observedGeneration:i 6:conditions:*apps.ReplicaSetCondition',
  'apps.RollingUpdateDaemonSet': '1:maxUnavailable:intstr.IntOrString 2:maxSurge:intstr.IntOrString',
  'apps.RollingUpdateDeployment': '1:maxUnavailable:intstr.IntOrString 2:maxSurge:intstr.IntOrString',
  'apps.RollingUpdateStatefulSetStrategy': '1:partition:i 2:maxUnavailable:intstr.IntOrString',
  'apps.StatefulSet':
    '1:metadata:meta.ObjectMeta 2:spec:apps.StatefulSetSpec 3:status:apps.StatefulSetStatus',
  'apps.StatefulSetCondition': '1:type:s 2:status:s 3:lastTransitionTime:meta.Time 4:reason:s 5:message:s',
  'apps.StatefulSetOrdinals': '1:start:i',
  'apps.StatefulSetPersistentVolumeClaimRetentionPolicy': '1:whenDeleted:s 2:whenScaled:s',
  'apps.StatefulSetSpec':
    '1:replicas:i 2:selector:meta.LabelSelector 3:template:core.PodTemplateSpec 4:volumeClaimTemplates:*core.PersistentVolumeClaim 5:serviceName:s 6:podManagementPolicy:s 7:updateStrategy:apps.StatefulSetUpdateStrategy 8:revisionHistoryLimit:i 9:minReadySeconds:i 10:persistentVolumeClaimRetentionPolicy:apps.StatefulSetPersistentVolumeClaimRetentionPolicy 11:ordinals:apps.StatefulSetOrdinals',
  'apps.StatefulSetStatus':
    '1:observedGeneration:i 2:replicas:i 3:readyReplicas:i 4:currentReplicas:i 5:updatedReplicas:i 6:currentRevision:s 7:updateRevision:s 9:collisionCount:i 10:conditions:*apps.StatefulSetCondition 11:availableReplicas:i',
  'apps.StatefulSetUpdateStrategy': '1:type:s 2:rollingUpdate:apps.RollingUpdateStatefulSetStrategy',
  'authentication.AttestationValue': '1:items:*s',
  'authentication.BoundObjectReference': '1:kind:s 2:apiVersion:s 3:name:s 4:uID:s',
  'authentication.ExtraValue': '1:items:*s',
  'authentication.SelfSubjectReview':
    '1:metadata:meta.ObjectMeta 2:status:authentication.SelfSubjectReviewStatus',
  'authentication.SelfSubjectReviewStatus': '1:userInfo:authentication.UserInfo',
  'authentication.TokenRequest':
    '1:metadata:meta.ObjectMeta 2:spec:authentication.TokenRequestSpec 3:status:authentication.TokenRequestStatus',
  'authentication.TokenRequestSpec':
    '1:audiences:*s 4:expirationSeconds:i 3:boundObjectRef:authentication.BoundObjectReference 5:attestations:@authentication.AttestationValue',
  'authentication.TokenRequestStatus': '1:token:s 2:expirationTimestamp:meta.Time',
  'authentication.UserInfo': '1:username:s 2:uid:s 3:groups:*s 4:extra:@authentication.ExtraValue',
  'authorization.FieldSelectorAttributes': '1:rawSelector:s 2:requirements:*meta.FieldSelectorRequirement',
  'authorization.LabelSelectorAttributes': '1:rawSelector:s 2:requirements:*meta.LabelSelectorRequirement',
  'authorization.NonResourceAttributes': '1:path:s 2:verb:s',
  'authorization.NonResourceRule': '1:verbs:*s 2:nonResourceURLs:*s',
  'authorization.ResourceAttributes':
    '1:namespace:s 2:verb:s 3:group:s 4:version:s 5:resource:s 6:subresource:s 7:name:s 8:fieldSelector:authorization.FieldSelectorAttributes 9:labelSelector:authorization.LabelSelectorAttributes',
  'authorization.ResourceRule': '1:verbs:*s 2:apiGroups:*s 3:resources:*s 4:resourceNames:*s',
  'authorization.SelfSubjectAccessReview':
    '1:metadata:meta.ObjectMeta 2:spec:authorization.SelfSubjectAccessReviewSpec 3:status:authorization.SubjectAccessReviewStatus',
  'authorization.SelfSubjectAccessReviewSpec':
    '1:resourceAttributes:authorization.ResourceAttributes 2:nonResourceAttributes:authorization.NonResourceAttributes',
  'authorization.SelfSubjectRulesReview':
    '1:metadata:meta.ObjectMeta 2:spec:authorization.SelfSubjectRulesReviewSpec 3:status:authorization.SubjectRulesReviewStatus',
  'authorization.SelfSubjectRulesReviewSpec': '1:namespace:s',
  'authorization.SubjectAccessReviewStatus': '1:allowed:t 4:denied:t 2:reason:s 3:evaluationError:s',
  'authorization.SubjectRulesReviewStatus':
    '1:resourceRules:*authorization.ResourceRule 2:nonResourceRules:*authorization.NonResourceRule 3:incomplete:t 4:evaluationError:s',
  'autoscaling.CrossVersionObjectReference': '1:kind:s 2:name:s 3:apiVersion:s',
  'autoscaling.HorizontalPodAutoscaler':
    '1:metadata:meta.ObjectMeta 2:spec:autoscaling.HorizontalPodAutoscalerSpec 3:status:autoscaling.HorizontalPodAutoscalerStatus',
  'autoscaling.HorizontalPodAutoscalerSpec':
    '1:scaleTargetRef:autoscaling.CrossVersionObjectReference 2:minReplicas:i 3:maxReplicas:i 4:targetCPUUtilizationPercentage:i',
  'autoscaling.HorizontalPodAutoscalerStatus':
    '1:observedGeneration:i 2:lastScaleTime:meta.Time 3:currentReplicas:i 4:desiredReplicas:i 5:currentCPUUtilizationPercentage:i',
  'autoscaling.Scale':
    '1:metadata:meta.ObjectMeta 2:spec:autoscaling.ScaleSpec 3:status:autoscaling.ScaleStatus',
  'autoscaling.ScaleSpec': '1:replicas:i',
  'autoscaling.ScaleStatus': '1:replicas:i 2:selector:s',
  'autoscalingv2.ContainerResourceMetricSource': '1:name:s 2:target:autoscalingv2.MetricTarget 3:container:s',
  'autoscalingv2.ContainerResourceMetricStatus':
    '1:name:s 2:current:autoscalingv2.MetricValueStatus 3:container:s',
  'autoscalingv2.CrossVersionObjectReference': '1:kind:s 2:name:s 3:apiVersion:s',
  'autoscalingv2.ExternalMetricSource':
    '1:metric:autoscalingv2.MetricIdentifier 2:target:autoscalingv2.MetricTarget',
  'autoscalingv2.ExternalMetricStatus':
    '1:metric:autoscalingv2.MetricIdentifier 2:current:autoscalingv2.MetricValueStatus',
  'autoscalingv2.HPAScalingPolicy': '1:type:s 2:value:i 3:periodSeconds:i',
  'autoscalingv2.HPAScalingRules':
    '3:stabilizationWindowSeconds:i 1:selectPolicy:s 2:policies:*autoscalingv2.HPAScalingPolicy 4:tolerance:resource.Quantity',
  'autoscalingv2.HorizontalPodAutoscaler':
    '1:metadata:meta.ObjectMeta 2:spec:autoscalingv2.HorizontalPodAutoscalerSpec 3:status:autoscalingv2.HorizontalPodAutoscalerStatus',
  'autoscalingv2.HorizontalPodAutoscalerBehavior':
    '1:scaleUp:autoscalingv2.HPAScalingRules 2:scaleDown:autoscalingv2.HPAScalingRules',
  'autoscalingv2.HorizontalPodAutoscalerCondition':
    '1:type:s 2:status:s 3:lastTransitionTime:meta.Time 4:reason:s 5:message:s 6:observedGeneration:i',
  'autoscalingv2.HorizontalPodAutoscalerSpec':
    '1:scaleTargetRef:autoscalingv2.CrossVersionObjectReference 2:minReplicas:i 3:maxReplicas:i 4:metrics:*autoscalingv2.MetricSpec 5:behavior:autoscalingv2.HorizontalPodAutoscalerBehavior',
  'autoscalingv2.HorizontalPodAutoscalerStatus':
    '1:observedGeneration:i 2:lastScaleTime:meta.Time 3:currentReplicas:i 4:desiredReplicas:i 5:currentMetrics:*autoscalingv2.MetricStatus 6:conditions:*autoscalingv2.HorizontalPodAutoscalerCondition',
  'autoscalingv2.MetricIdentifier': '1:name:s 2:selector:meta.LabelSelector',
  'autoscalingv2.MetricSpec':
    '1:type:s 2:object:autoscalingv2.ObjectMetricSource 3:pods:autoscalingv2.PodsMetricSource 4:resource:autoscalingv2.ResourceMetricSource 7:containerResource:autoscalingv2.ContainerResourceMetricSource 5:external:autoscalingv2.ExternalMetricSource',
  'autoscalingv2.MetricStatus':
    '1:type:s 2:object:autoscalingv2.ObjectMetricStatus 3:pods:autoscalingv2.PodsMetricStatus 4:resource:autoscalingv2.ResourceMetricStatus 7:containerResource:autoscalingv2.ContainerResourceMetricStatus 5:external:autoscalingv2.ExternalMetricStatus',
  'autoscalingv2.MetricTarget':
    '1:type:s 2:value:resource.Quantity 3:averageValue:resource.Quantity 4:averageUtilization:i',
  'autoscalingv2.MetricValueStatus':
    '1:value:resource.Quantity 2:averageValue:resource.Quantity 3:averageUtilization:i',
  'autoscalingv2.ObjectMetricSource':
    '1:describedObject:autoscalingv2.CrossVersionObjectReference 2:target:autoscalingv2.MetricTarget 3:metric:autoscalingv2.MetricIdentifier',
  'autoscalingv2.ObjectMetricStatus':
    '1:metric:autoscalingv2.MetricIdentifier 2:current:autoscalingv2.MetricValueStatus 3:describedObject:autoscalingv2.CrossVersionObjectReference',
  'autoscalingv2.PodsMetricSource':
    '1:metric:autoscalingv2.MetricIdentifier 2:target:autoscalingv2.MetricTarget',
  'autoscalingv2.PodsMetricStatus':
    '1:metric:autoscalingv2.MetricIdentifier 2:current:autoscalingv2.MetricValueStatus',
  'autoscalingv2.ResourceMetricSource': '1:name:s 2:target:autoscalingv2.MetricTarget',
  'autoscalingv2.ResourceMetricStatus': '1:name:s 2:current:autoscalingv2.MetricValueStatus',
  'batch.CronJob': '1:metadata:meta.ObjectMeta 2:spec:batch.CronJobSpec 3:status:batch.CronJobStatus',
  'batch.CronJobSpec':
    '1:schedule:s 8:timeZone:s 2:startingDeadlineSeconds:i 3:concurrencyPolicy:s 4:suspend:t 5:jobTemplate:batch.JobTemplateSpec 6:successfulJobsHistoryLimit:i 7:failedJobsHistoryLimit:i',
  'batch.CronJobStatus':
    '1:active:*core.ObjectReference 4:lastScheduleTime:meta.Time 5:lastSuccessfulTime:meta.Time',
  'batch.Job': '1:metadata:meta.ObjectMeta 2:spec:batch.JobSpec 3:status:batch.JobStatus',
  'batch.JobCondition':
    '1:type:s 2:status:s 3:lastProbeTime:meta.Time 4:lastTransitionTime:meta.Time 5:reason:s 6:message:s',
  'batch.JobSchedulingConfiguration':
    '1:schedulingPolicy:?k8s.io.api.scheduling.v1alpha3.WorkloadPodGroupSchedulingPolicy 2:schedulingConstraints:?k8s.io.api.scheduling.v1alpha3.WorkloadPodGroupSchedulingConstraints 3:disruptionMode:?k8s.io.api.scheduling.v1alpha3.WorkloadPodGroupDisruptionMode 4:resourceClaims:*?k8s.io.api.scheduling.v1alpha3.WorkloadPodGroupResourceClaim',
  'batch.JobSpec':
    '1:parallelism:i 2:completions:i 3:activeDeadlineSeconds:i 11:podFailurePolicy:batch.PodFailurePolicy 16:successPolicy:batch.SuccessPolicy 7:backoffLimit:i 12:backoffLimitPerIndex:i 13:maxFailedIndexes:i 4:selector:meta.LabelSelector 5:manualSelector:t 6:template:core.PodTemplateSpec 8:ttlSecondsAfterFinished:i 9:completionMode:s 10:suspend:t 14:podReplacementPolicy:s 15:managedBy:s 17:scheduling:batch.JobSchedulingConfiguration',
  'batch.JobStatus':
    '1:conditions:*batch.JobCondition 2:startTime:meta.Time 3:completionTime:meta.Time 4:active:i 5:succeeded:i 6:failed:i 11:terminating:i 7:completedIndexes:s 10:failedIndexes:s 8:uncountedTerminatedPods:batch.UncountedTerminatedPods 9:ready:i',
  'batch.JobTemplateSpec': '1:metadata:meta.ObjectMeta 2:spec:batch.JobSpec',
  'batch.PodFailurePolicy': '1:rules:*batch.PodFailurePolicyRule',
  'batch.PodFailurePolicyOnExitCodesRequirement': '1:containerName:s 2:operator:s 3:values:*i',
  'batch.PodFailurePolicyOnPodConditionsPattern': '1:type:s 2:status:s',
  'batch.PodFailurePolicyRule':
    '1:action:s 2:onExitCodes:batch.PodFailurePolicyOnExitCodesRequirement 3:onPodConditions:*batch.PodFailurePolicyOnPodConditionsPattern',
  'batch.SuccessPolicy': '1:rules:*batch.SuccessPolicyRule',
  'batch.SuccessPolicyRule': '1:succeededIndexes:s 2:succeededCount:i',
  'batch.UncountedTerminatedPods': '1:succeeded:*s 2:failed:*s',
  'core.AWSElasticBlockStoreVolumeSource': '1:volumeID:s 2:fsType:s 3:partition:i 4:readOnly:t',
  'core.Affinity':
    '1:nodeAffinity:core.NodeAffinity 2:podAffinity:core.PodAffinity 3:podAntiAffinity:core.PodAntiAffinity',
  'core.AppArmorProfile': '1:type:s 2:localhostProfile:s',
  'core.AttachedVolume': '1:name:s 2:devicePath:s',
  'core.AzureDiskVolumeSource': '1:diskName:s 2:diskURI:s 3:cachingMode:s 4:fsType:s 5:readOnly:t 6:kind:s',
  'core.AzureFilePersistentVolumeSource': '1:secretName:s 2:shareName:s 3:readOnly:t 4:secretNamespace:s',
  'core.AzureFileVolumeSource': '1:secretName:s 2:shareName:s 3:readOnly:t',
  'core.CSIPersistentVolumeSource':
    '1:driver:s 2:volumeHandle:s 3:readOnly:t 4:fsType:s 5:volumeAttributes:@s 6:controllerPublishSecretRef:core.SecretReference 7:nodeStageSecretRef:core.SecretReference 8:nodePublishSecretRef:core.SecretReference 9:controllerExpandSecretRef:core.SecretReference 10:nodeExpandSecretRef:core.SecretReference',
  'core.CSIVolumeSource':
    '1:driver:s 2:readOnly:t 3:fsType:s 4:volumeAttributes:@s 5:nodePublishSecretRef:core.LocalObjectReference',
  'core.Capabilities': '1:add:*s 2:drop:*s',
  'core.CephFSPersistentVolumeSource':
    '1:monitors:*s 2:path:s 3:user:s 4:secretFile:s 5:secretRef:core.SecretReference 6:readOnly:t',
  'core.CephFSVolumeSource':
    '1:monitors:*s 2:path:s 3:user:s 4:secretFile:s 5:secretRef:core.LocalObjectReference 6:readOnly:t',
  'core.CinderPersistentVolumeSource':
    '1:volumeID:s 2:fsType:s 3:readOnly:t 4:secretRef:core.SecretReference',
  'core.CinderVolumeSource': '1:volumeID:s 2:fsType:s 3:readOnly:t 4:secretRef:core.LocalObjectReference',
  'core.ClientIPConfig': '1:timeoutSeconds:i',
  'core.ClusterTrustBundleProjection':
    '1:name:s 2:signerName:s 3:labelSelector:meta.LabelSelector 5:optional:t 4:path:s 6:user:i',
  'core.ConfigMap': '1:metadata:meta.ObjectMeta 4:immutable:t 2:data:@s 3:binaryData:@b',
  'core.ConfigMapEnvSource': '1:localObjectReference:core.LocalObjectReference 2:optional:t',
  'core.ConfigMapKeySelector': '1:localObjectReference:core.LocalObjectReference 2:key:s 3:optional:t',
  'core.ConfigMapNodeConfigSource': '1:namespace:s 2:name:s 3:uid:s 4:resourceVersion:s 5:kubeletConfigKey:s',
  'core.ConfigMapProjection':
    '1:localObjectReference:core.LocalObjectReference 2:items:*core.KeyToPath 4:optional:t',
  'core.ConfigMapVolumeSource':
    '1:localObjectReference:core.LocalObjectReference 2:items:*core.KeyToPath 3:defaultMode:i 4:optional:t 5:defaultUser:i',
  'core.Container':
    '1:name:s 2:image:s 3:command:*s 4:args:*s 5:workingDir:s 6:ports:*core.ContainerPort 19:envFrom:*core.EnvFromSource 7:env:*core.EnvVar 8:resources:core.ResourceRequirements 23:resizePolicy:*core.ContainerResizePolicy 24:restartPolicy:s 25:restartPolicyRules:*core.ContainerRestartRule 9:volumeMounts:*core.VolumeMount 21:volumeDevices:*core.VolumeDevice 10:livenessProbe:core.Probe 11:readinessProbe:core.Probe 22:startupProbe:core.Probe 12:lifecycle:core.Lifecycle 13:terminationMessagePath:s 20:terminationMessagePolicy:s 14:imagePullPolicy:s 15:securityContext:core.SecurityContext 16:stdin:t 17:stdinOnce:t 18:tty:t',
  'core.ContainerExtendedResourceRequest': '1:containerName:s 2:resourceName:s 3:requestName:s',
  'core.ContainerImage': '1:names:*s 2:sizeBytes:i',
  'core.ContainerPort': '1:name:s 2:hostPort:i 3:containerPort:i 4:protocol:s 5:hostIP:s',
  'core.ContainerResizePolicy': '1:resourceName:s 2:restartPolicy:s',
  'core.ContainerRestartRule': '1:action:s 2:exitCodes:core.ContainerRestartRuleOnExitCodes',
  'core.ContainerRestartRuleOnExitCodes': '1:operator:s 2:values:*i',
  'core.ContainerState':
    '1:waiting:core.ContainerStateWaiting 2:running:core.ContainerStateRunning 3:terminated:core.ContainerStateTerminated',
  'core.ContainerStateRunning': '1:startedAt:meta.Time',
  'core.ContainerStateTerminated':
    '1:exitCode:i 2:signal:i 3:reason:s 4:message:s 5:startedAt:meta.Time 6:finishedAt:meta.Time 7:containerID:s',
  'core.ContainerStateWaiting': '1:reason:s 2:message:s',
  'core.ContainerStatus':
    '1:name:s 2:state:core.ContainerState 3:lastState:core.ContainerState 4:ready:t 5:restartCount:i 6:image:s 7:imageID:s 8:containerID:s 9:started:t 10:allocatedResources:@resource.Quantity 11:resources:core.ResourceRequirements 12:volumeMounts:*core.VolumeMountStatus 13:user:core.ContainerUser 14:allocatedResourcesStatus:*core.ResourceStatus 15:stopSignal:s',
  'core.ContainerUser': '1:linux:core.LinuxContainerUser',
  'core.DaemonEndpoint': '1:Port:i',
  'core.DownwardAPIProjection': '1:items:*core.DownwardAPIVolumeFile',
  'core.DownwardAPIVolumeFile':
    '1:path:s 2:fieldRef:core.ObjectFieldSelector 3:resourceFieldRef:core.ResourceFieldSelector 4:mode:i 5:user:i',
  'core.DownwardAPIVolumeSource': '1:items:*core.DownwardAPIVolumeFile 2:defaultMode:i 3:defaultUser:i',
  'core.EmptyDirVolumeSource': '1:medium:s 2:sizeLimit:resource.Quantity 3:mode:i',
  'core.EndpointAddress': '1:ip:s 3:hostname:s 4:nodeName:s 2:targetRef:core.ObjectReference',
  'core.EndpointPort': '1:name:s 2:port:i 3:protocol:s 4:appProtocol:s',
  'core.EndpointSubset':
    '1:addresses:*core.EndpointAddress 2:notReadyAddresses:*core.EndpointAddress 3:ports:*core.EndpointPort',
  'core.Endpoints': '1:metadata:meta.ObjectMeta 2:subsets:*core.EndpointSubset',
  'core.EnvFromSource': '1:prefix:s 2:configMapRef:core.ConfigMapEnvSource 3:secretRef:core.SecretEnvSource',
  'core.EnvVar': '1:name:s 2:value:s 3:valueFrom:core.EnvVarSource',
  'core.EnvVarSource':
    '1:fieldRef:core.ObjectFieldSelector 2:resourceFieldRef:core.ResourceFieldSelector 3:configMapKeyRef:core.ConfigMapKeySelector 4:secretKeyRef:core.SecretKeySelector 5:fileKeyRef:core.FileKeySelector',
  'core.EphemeralContainer':
    '1:ephemeralContainerCommon:core.EphemeralContainerCommon 2:targetContainerName:s',
  'core.EphemeralContainerCommon':
    '1:name:s 2:image:s 3:command:*s 4:args:*s 5:workingDir:s 6:ports:*core.ContainerPort 19:envFrom:*core.EnvFromSource 7:env:*core.EnvVar 8:resources:core.ResourceRequirements 23:resizePolicy:*core.ContainerResizePolicy 24:restartPolicy:s 25:restartPolicyRules:*core.ContainerRestartRule 9:volumeMounts:*core.VolumeMount 21:volumeDevices:*core.VolumeDevice 10:livenessProbe:core.Probe 11:readinessProbe:core.Probe 22:startupProbe:core.Probe 12:lifecycle:core.Lifecycle 13:terminationMessagePath:s 20:terminationMessagePolicy:s 14:imagePullPolicy:s 15:securityContext:core.SecurityContext 16:stdin:t 17:stdinOnce:t 18:tty:t',
  'core.EphemeralVolumeSource': '1:volumeClaimTemplate:core.PersistentVolumeClaimTemplate',
  'core.Event':
    '1:metadata:meta.ObjectMeta 2:involvedObject:core.ObjectReference 3:reason:s 4:message:s 5:source:core.EventSource 6:firstTimestamp:meta.Time 7:lastTimestamp:meta.Time 8:count:i 9:type:s 10:eventTime:meta.MicroTime 11:series:core.EventSeries 12:action:s 13:related:core.ObjectReference 14:reportingComponent:s 15:reportingInstance:s',
  'core.EventSeries': '1:count:i 2:lastObservedTime:meta.MicroTime',
  'core.EventSource': '1:component:s 2:host:s',
  'core.EvictionResponder': '1:name:s 2:priority:i',
  'core.ExecAction': '1:command:*s',
  'core.FCVolumeSource': '1:targetWWNs:*s 2:lun:i 3:fsType:s 4:readOnly:t 5:wwids:*s',
  'core.FileKeySelector': '1:volumeName:s 2:path:s 3:key:s 4:optional:t',
  'core.FlexPersistentVolumeSource':
    '1:driver:s 2:fsType:s 3:secretRef:core.SecretReference 4:readOnly:t 5:options:@s',
  'core.FlexVolumeSource':
    '1:driver:s 2:fsType:s 3:secretRef:core.LocalObjectReference 4:readOnly:t 5:options:@s',
  'core.FlockerVolumeSource': '1:datasetName:s 2:datasetUUID:s',
  'core.GCEPersistentDiskVolumeSource': '1:pdName:s 2:fsType:s 3:partition:i 4:readOnly:t',
  'core.GRPCAction': '1:port:i 2:service:s 3:mode:s',
  'core.GitRepoVolumeSource': '1:repository:s 2:revision:s 3:directory:s',
  'core.GlusterfsPersistentVolumeSource': '1:endpoints:s 2:path:s 3:readOnly:t 4:endpointsNamespace:s',
  'core.GlusterfsVolumeSource': '1:endpoints:s 2:path:s 3:readOnly:t',
  'core.HTTPGetAction':
    '1:path:s 2:port:intstr.IntOrString 3:host:s 4:scheme:s 5:httpHeaders:*core.HTTPHeader 6:protocol:s',
  'core.HTTPHeader': '1:name:s 2:value:s',
  'core.HostAlias': '1:ip:s 2:hostnames:*s',
  'core.HostIP': '1:ip:s',
  'core.HostPathVolumeSource': '1:path:s 2:type:s',
  'core.ISCSIPersistentVolumeSource':
    '1:targetPortal:s 2:iqn:s 3:lun:i 4:iscsiInterface:s 5:fsType:s 6:readOnly:t 7:portals:*s 8:chapAuthDiscovery:t 11:chapAuthSession:t 10:secretRef:core.SecretReference 12:initiatorName:s',
  'core.ISCSIVolumeSource':
    '1:targetPortal:s 2:iqn:s 3:lun:i 4:iscsiInterface:s 5:fsType:s 6:readOnly:t 7:portals:*s 8:chapAuthDiscovery:t 11:chapAuthSession:t 10:secretRef:core.LocalObjectReference 12:initiatorName:s',
  'core.ImageVolumeSource': '1:reference:s 2:pullPolicy:s',
  'core.ImageVolumeStatus': '1:imageRef:s',
  'core.KeyToPath': '1:key:s 2:path:s 3:mode:i 4:user:i',
  'core.Lifecycle': '1:postStart:core.LifecycleHandler 2:preStop:core.LifecycleHandler 3:stopSignal:s',
  'core.LifecycleHandler':
    '1:exec:core.ExecAction 2:httpGet:core.HTTPGetAction 3:tcpSocket:core.TCPSocketAction 4:sleep:core.SleepAction',
  'core.LimitRange': '1:metadata:meta.ObjectMeta 2:spec:core.LimitRangeSpec',
  'core.LimitRangeItem':
    '1:type:s 2:max:@resource.Quantity 3:min:@resource.Quantity 4:default:@resource.Quantity 5:defaultRequest:@resource.Quantity 6:maxLimitRequestRatio:@resource.Quantity',
  'core.LimitRangeSpec': '1:limits:*core.LimitRangeItem',
  'core.LinuxContainerUser': '1:uid:i 2:gid:i 3:supplementalGroups:*i',
  'core.LoadBalancerIngress': '1:ip:s 2:hostname:s 3:ipMode:s 4:ports:*core.PortStatus',
  'core.LoadBalancerStatus': '1:ingress:*core.LoadBalancerIngress',
  'core.LocalObjectReference': '1:name:s',
  'core.LocalVolumeSource': '1:path:s 2:fsType:s',
  'core.ModifyVolumeStatus': '1:targetVolumeAttributesClassName:s 2:status:s',
  'core.NFSVolumeSource': '1:server:s 2:path:s 3:readOnly:t',
  'core.Namespace': '1:metadata:meta.ObjectMeta 2:spec:core.NamespaceSpec 3:status:core.NamespaceStatus',
  'core.NamespaceCondition': '1:type:s 2:status:s 4:lastTransitionTime:meta.Time 5:reason:s 6:message:s',
  'core.NamespaceSpec': '1:finalizers:*s',
  'core.NamespaceStatus': '1:phase:s 2:conditions:*core.NamespaceCondition',
  'core.Node': '1:metadata:meta.ObjectMeta 2:spec:core.NodeSpec 3:status:core.NodeStatus',
  'core.NodeAddress': '1:type:s 2:address:s',
  'core.NodeAffinity':
    '1:requiredDuringSchedulingIgnoredDuringExecution:core.NodeSelector 2:preferredDuringSchedulingIgnoredDuringExecution:*core.PreferredSchedulingTerm',
  'core.NodeAllocatableMappedResources': '1:name:s 2:quantity:resource.Quantity',
  'core.NodeAllocatableOverheadResources':
    '1:name:s 2:perPod:resource.Quantity 3:perContainer:resource.Quantity',
  'core.NodeAllocatableResourceClaimStatus':
    '1:resourceClaimName:s 2:containers:*s 4:mapping:*core.NodeAllocatableMappedResources 5:overhead:*core.NodeAllocatableOverheadResources',
  'core.NodeCondition':
    '1:type:s 2:status:s 3:lastHeartbeatTime:meta.Time 4:lastTransitionTime:meta.Time 5:reason:s 6:message:s',
  'core.NodeConfigSource': '2:configMap:core.ConfigMapNodeConfigSource',
  'core.NodeConfigStatus':
    '1:assigned:core.NodeConfigSource 2:active:core.NodeConfigSource 3:lastKnownGood:core.NodeConfigSource 4:error:s',
  'core.NodeDaemonEndpoints': '1:kubeletEndpoint:core.DaemonEndpoint',
  'core.NodeFeatures': '1:supplementalGroupsPolicy:t',
  'core.NodePodPreemptionPolicy': '1:disableResizePreemption:*s',
  'core.NodeRuntimeHandler': '1:name:s 2:features:core.NodeRuntimeHandlerFeatures',
  'core.NodeRuntimeHandlerFeatures': '1:recursiveReadOnlyMounts:t 2:userNamespaces:t',
  'core.NodeSelector': '1:nodeSelectorTerms:*core.NodeSelectorTerm',
  'core.NodeSelectorRequirement': '1:key:s 2:operator:s 3:values:*s',
  'core.NodeSelectorTerm':
    '1:matchExpressions:*core.NodeSelectorRequirement 2:matchFields:*core.NodeSelectorRequirement',
  'core.NodeSpec':
    '1:podCIDR:s 7:podCIDRs:*s 3:providerID:s 4:unschedulable:t 5:taints:*core.Taint 6:configSource:core.NodeConfigSource 2:externalID:s 8:podPreemptionPolicy:core.NodePodPreemptionPolicy',
  'core.NodeStatus':
    '1:capacity:@resource.Quantity 2:allocatable:@resource.Quantity 3:phase:s 4:conditions:*core.NodeCondition 5:addresses:*core.NodeAddress 6:daemonEndpoints:core.NodeDaemonEndpoints 7:nodeInfo:core.NodeSystemInfo 8:images:*core.ContainerImage 9:volumesInUse:*s 10:volumesAttached:*core.AttachedVolume 11:config:core.NodeConfigStatus 12:runtimeHandlers:*core.NodeRuntimeHandler 13:features:core.NodeFeatures 14:declaredFeatures:*s',
  'core.NodeSwapStatus': '1:capacity:i',
  'core.NodeSystemInfo':
    '1:machineID:s 2:systemUUID:s 3:bootID:s 4:kernelVersion:s 5:osImage:s 6:containerRuntimeVersion:s 7:kubeletVersion:s 8:kubeProxyVersion:s 9:operatingSystem:s 10:architecture:s 11:swap:core.NodeSwapStatus',
  'core.ObjectFieldSelector': '1:apiVersion:s 2:fieldPath:s',
  'core.ObjectReference':
    '1:kind:s 2:namespace:s 3:name:s 4:uid:s 5:apiVersion:s 6:resourceVersion:s 7:fieldPath:s',
  'core.PersistentVolume':
    '1:metadata:meta.ObjectMeta 2:spec:core.PersistentVolumeSpec 3:status:core.PersistentVolumeStatus',
  'core.PersistentVolumeClaim':
    '1:metadata:meta.ObjectMeta 2:spec:core.PersistentVolumeClaimSpec 3:status:core.PersistentVolumeClaimStatus',
  'core.PersistentVolumeClaimCondition':
    '1:type:s 2:status:s 3:lastProbeTime:meta.Time 4:lastTransitionTime:meta.Time 5:reason:s 6:message:s',
  'core.PersistentVolumeClaimSpec':
    '1:accessModes:*s 4:selector:meta.LabelSelector 2:resources:core.VolumeResourceRequirements 3:volumeName:s 5:storageClassName:s 6:volumeMode:s 7:dataSource:core.TypedLocalObjectReference 8:dataSourceRef:core.TypedObjectReference 9:volumeAttributesClassName:s',
  'core.PersistentVolumeClaimStatus':
    '1:phase:s 2:accessModes:*s 3:capacity:@resource.Quantity 4:conditions:*core.PersistentVolumeClaimCondition 5:allocatedResources:@resource.Quantity 7:allocatedResourceStatuses:@s 8:currentVolumeAttributesClassName:s 9:modifyVolumeStatus:core.ModifyVolumeStatus 10:healthStatus:core.VolumeHealthStatus',
  'core.PersistentVolumeClaimTemplate': '1:metadata:meta.ObjectMeta 2:spec:core.PersistentVolumeClaimSpec',
  'core.PersistentVolumeClaimVolumeSource': '1:claimName:s 2:readOnly:t',
  'core.PersistentVolumeSource':
    '1:gcePersistentDisk:core.GCEPersistentDiskVolumeSource 2:awsElasticBlockStore:core.AWSElasticBlockStoreVolumeSource 3:hostPath:core.HostPathVolumeSource 4:glusterfs:core.GlusterfsPersistentVolumeSource 5:nfs:core.NFSVolumeSource 6:rbd:core.RBDPersistentVolumeSource 7:iscsi:core.ISCSIPersistentVolumeSource 8:cinder:core.CinderPersistentVolumeSource 9:cephfs:core.CephFSPersistentVolumeSource 10:fc:core.FCVolumeSource 11:flocker:core.FlockerVolumeSource 12:flexVolume:core.FlexPersistentVolumeSource 13:azureFile:core.AzureFilePersistentVolumeSource 14:vsphereVolume:core.VsphereVirtualDiskVolumeSource 15:quobyte:core.QuobyteVolumeSource 16:azureDisk:core.AzureDiskVolumeSource 17:photonPersistentDisk:core.PhotonPersistentDiskVolumeSource 18:portworxVolume:core.PortworxVolumeSource 19:scaleIO:core.ScaleIOPersistentVolumeSource 20:local:core.LocalVolumeSource 21:storageos:core.StorageOSPersistentVolumeSource 22:csi:core.CSIPersistentVolumeSource',
  'core.PersistentVolumeSpec':
    '1:capacity:@resource.Quantity 2:persistentVolumeSource:core.PersistentVolumeSource 3:accessModes:*s 4:claimRef:core.ObjectReference 5:persistentVolumeReclaimPolicy:s 6:storageClassName:s 7:mountOptions:*s 8:volumeMode:s 9:nodeAffinity:core.VolumeNodeAffinity 10:volumeAttributesClassName:s',
  'core.PersistentVolumeStatus': '1:phase:s 2:message:s 3:reason:s 4:lastPhaseTransitionTime:meta.Time',
  'core.PhotonPersistentDiskVolumeSource': '1:pdID:s 2:fsType:s',
  'core.Pod': '1:metadata:meta.ObjectMeta 2:spec:core.PodSpec 3:status:core.PodStatus',
  'core.PodAffinity':
    '1:requiredDuringSchedulingIgnoredDuringExecution:*core.PodAffinityTerm 2:preferredDuringSchedulingIgnoredDuringExecution:*core.WeightedPodAffinityTerm',
  'core.PodAffinityTerm':
    '1:labelSelector:meta.LabelSelector 2:namespaces:*s 3:topologyKey:s 4:namespaceSelector:meta.LabelSelector 5:matchLabelKeys:*s 6:mismatchLabelKeys:*s',
  'core.PodAntiAffinity':
    '1:requiredDuringSchedulingIgnoredDuringExecution:*core.PodAffinityTerm 2:preferredDuringSchedulingIgnoredDuringExecution:*core.WeightedPodAffinityTerm',
  'core.PodCertificateProjection':
    '1:signerName:s 2:keyType:s 3:maxExpirationSeconds:i 4:credentialBundlePath:s 5:keyPath:s 6:certificateChainPath:s 7:userAnnotations:@s 8:user:i',
  'core.PodCondition':
    '1:type:s 7:observedGeneration:i 2:status:s 3:lastProbeTime:meta.Time 4:lastTransitionTime:meta.Time 5:reason:s 6:message:s',
  'core.PodDNSConfig': '1:nameservers:*s 2:searches:*s 3:options:*core.PodDNSConfigOption',
  'core.PodDNSConfigOption': '1:name:s 2:value:s',
  'core.PodExtendedResourceClaimStatus':
    '1:requestMappings:*core.ContainerExtendedResourceRequest 2:resourceClaimName:s',
  'core.PodIP': '1:ip:s',
  'core.PodOS': '1:name:s',
  'core.PodReadinessGate': '1:conditionType:s',
  'core.PodResourceClaim': '1:name:s 3:resourceClaimName:s 4:resourceClaimTemplateName:s',
  'core.PodResourceClaimStatus': '1:name:s 2:resourceClaimName:s',
  'core.PodSchedulingGate': '1:name:s',
  'core.PodSchedulingGroup': '1:podGroupName:s',
  'core.PodSecurityContext':
    '1:seLinuxOptions:core.SELinuxOptions 8:windowsOptions:core.WindowsSecurityContextOptions 2:runAsUser:i 6:runAsGroup:i 3:runAsNonRoot:t 4:supplementalGroups:*i 12:supplementalGroupsPolicy:s 5:fsGroup:i 7:sysctls:*core.Sysctl 9:fsGroupChangePolicy:s 10:seccompProfile:core.SeccompProfile 11:appArmorProfile:core.AppArmorProfile 13:seLinuxChangePolicy:s',
  'core.PodSpec':
    '1:volumes:*core.Volume 20:initContainers:*core.Container 2:containers:*core.Container 34:ephemeralContainers:*core.EphemeralContainer 3:restartPolicy:s 4:terminationGracePeriodSeconds:i 5:activeDeadlineSeconds:i 6:dnsPolicy:s 7:nodeSelector:@s 8:serviceAccountName:s 9:serviceAccount:s 21:automountServiceAccountToken:t 10:nodeName:s 11:hostNetwork:t 12:hostPID:t 13:hostIPC:t 27:shareProcessNamespace:t 14:securityContext:core.PodSecurityContext 15:imagePullSecrets:*core.LocalObjectReference 16:hostname:s 17:subdomain:s 18:affinity:core.Affinity 19:schedulerName:s 22:tolerations:*core.Toleration 23:hostAliases:*core.HostAlias 24:priorityClassName:s 25:priority:i 26:dnsConfig:core.PodDNSConfig 28:readinessGates:*core.PodReadinessGate 29:runtimeClassName:s 30:enableServiceLinks:t 31:preemptionPolicy:s 32:overhead:@resource.Quantity 33:topologySpreadConstraints:*core.TopologySpreadConstraint 35:setHostnameAsFQDN:t 36:os:core.PodOS 37:hostUsers:t 38:schedulingGates:*core.PodSchedulingGate 39:resourceClaims:*core.PodResourceClaim 40:resources:core.ResourceRequirements 41:hostnameOverride:s 43:schedulingGroup:core.PodSchedulingGroup 44:evictionResponders:*core.EvictionResponder',
  'core.PodStatus':
    '17:observedGeneration:i 1:phase:s 2:conditions:*core.PodCondition 3:message:s 4:reason:s 11:nominatedNodeName:s 5:hostIP:s 16:hostIPs:*core.HostIP 6:podIP:s 12:podIPs:*core.PodIP 7:startTime:meta.Time 10:initContainerStatuses:*core.ContainerStatus 8:containerStatuses:*core.ContainerStatus 9:qosClass:s 13:ephemeralContainerStatuses:*core.ContainerStatus 14:resize:s 15:resourceClaimStatuses:*core.PodResourceClaimStatus 18:extendedResourceClaimStatus:core.PodExtendedResourceClaimStatus 19:allocatedResources:@resource.Quantity 20:resources:core.ResourceRequirements 21:nodeAllocatableResourceClaimStatuses:*core.NodeAllocatableResourceClaimStatus 22:volumeHealth:*core.PodVolumeHealth',
  'core.PodTemplate': '1:metadata:meta.ObjectMeta 2:template:core.PodTemplateSpec',
  'core.PodTemplateSpec': '1:metadata:meta.ObjectMeta 2:spec:core.PodSpec',
  'core.PodVolumeHealth':
    '1:name:s 2:healthConditions:*core.VolumeHealthCondition 3:lastTransitionTime:meta.Time',
  'core.PortStatus': '1:port:i 2:protocol:s 3:error:s',
  'core.PortworxVolumeSource': '1:volumeID:s 2:fsType:s 3:readOnly:t',
  'core.PreferredSchedulingTerm': '1:weight:i 2:preference:core.NodeSelectorTerm',
  'core.Probe':
    '1:handler:core.ProbeHandler 2:initialDelaySeconds:i 3:timeoutSeconds:i 4:periodSeconds:i 5:successThreshold:i 6:failureThreshold:i 7:terminationGracePeriodSeconds:i',
  'core.ProbeHandler':
    '1:exec:core.ExecAction 2:httpGet:core.HTTPGetAction 3:tcpSocket:core.TCPSocketAction 4:grpc:core.GRPCAction',
  'core.ProjectedVolumeSource': '1:sources:*core.VolumeProjection 2:defaultMode:i 3:defaultUser:i',
  'core.QuobyteVolumeSource': '1:registry:s 2:volume:s 3:readOnly:t 4:user:s 5:group:s 6:tenant:s',
  'core.RBDPersistentVolumeSource':
    '1:monitors:*s 2:image:s 3:fsType:s 4:pool:s 5:user:s 6:keyring:s 7:secretRef:core.SecretReference 8:readOnly:t',
  'core.RBDVolumeSource':
    '1:monitors:*s 2:image:s 3:fsType:s 4:pool:s 5:user:s 6:keyring:s 7:secretRef:core.LocalObjectReference 8:readOnly:t',
  'core.ReplicationController':
    '1:metadata:meta.ObjectMeta 2:spec:core.ReplicationControllerSpec 3:status:core.ReplicationControllerStatus',
  'core.ReplicationControllerCondition':
    '1:type:s 2:status:s 3:lastTransitionTime:meta.Time 4:reason:s 5:message:s',
  'core.ReplicationControllerSpec':
    '1:replicas:i 4:minReadySeconds:i 2:selector:@s 3:template:core.PodTemplateSpec',
  'core.ReplicationControllerStatus':
    '1:replicas:i 2:fullyLabeledReplicas:i 4:readyReplicas:i 5:availableReplicas:i 3:observedGeneration:i 6:conditions:*core.ReplicationControllerCondition',
  'core.ResourceClaim': '1:name:s 2:request:s',
  'core.ResourceFieldSelector': '1:containerName:s 2:resource:s 3:divisor:resource.Quantity',
  'core.ResourceHealth': '1:resourceID:s 2:health:s 6:message:s',
  'core.ResourceQuota':
    '1:metadata:meta.ObjectMeta 2:spec:core.ResourceQuotaSpec 3:status:core.ResourceQuotaStatus',
  'core.ResourceQuotaSpec': '1:hard:@resource.Quantity 2:scopes:*s 3:scopeSelector:core.ScopeSelector',
  'core.ResourceQuotaStatus': '1:hard:@resource.Quantity 2:used:@resource.Quantity',
  'core.ResourceRequirements':
    '1:limits:@resource.Quantity 2:requests:@resource.Quantity 3:claims:*core.ResourceClaim',
  'core.ResourceStatus': '1:name:s 2:resources:*core.ResourceHealth',
  'core.SELinuxOptions': '1:user:s 2:role:s 3:type:s 4:level:s',
  'core.ScaleIOPersistentVolumeSource':
    '1:gateway:s 2:system:s 3:secretRef:core.SecretReference 4:sslEnabled:t 5:protectionDomain:s 6:storagePool:s 7:storageMode:s 8:volumeName:s 9:fsType:s 10:readOnly:t',
  'core.ScaleIOVolumeSource':
    '1:gateway:s 2:system:s 3:secretRef:core.LocalObjectReference 4:sslEnabled:t 5:protectionDomain:s 6:storagePool:s 7:storageMode:s 8:volumeName:s 9:fsType:s 10:readOnly:t',
  'core.ScopeSelector': '1:matchExpressions:*core.ScopedResourceSelectorRequirement',
  'core.ScopedResourceSelectorRequirement': '1:scopeName:s 2:operator:s 3:values:*s',
  'core.SeccompProfile': '1:type:s 2:localhostProfile:s',
  'core.Secret': '1:metadata:meta.ObjectMeta 5:immutable:t 2:data:@b 4:stringData:@s 3:type:s',
  'core.SecretEnvSource': '1:localObjectReference:core.LocalObjectReference 2:optional:t',
  'core.SecretKeySelector': '1:localObjectReference:core.LocalObjectReference 2:key:s 3:optional:t',
  'core.SecretProjection':
    '1:localObjectReference:core.LocalObjectReference 2:items:*core.KeyToPath 4:optional:t',
  'core.SecretReference': '1:name:s 2:namespace:s',
  'core.SecretVolumeSource':
    '1:secretName:s 2:items:*core.KeyToPath 3:defaultMode:i 4:optional:t 5:defaultUser:i',
  'core.SecurityContext':
    '1:capabilities:core.Capabilities 2:privileged:t 3:seLinuxOptions:core.SELinuxOptions 10:windowsOptions:core.WindowsSecurityContextOptions 4:runAsUser:i 8:runAsGroup:i 5:runAsNonRoot:t 6:readOnlyRootFilesystem:t 7:allowPrivilegeEscalation:t 9:procMount:s 11:seccompProfile:core.SeccompProfile 12:appArmorProfile:core.AppArmorProfile',
  'core.Service': '1:metadata:meta.ObjectMeta 2:spec:core.ServiceSpec 3:status:core.ServiceStatus',
  'core.ServiceAccount':
    '1:metadata:meta.ObjectMeta 2:secrets:*core.ObjectReference 3:imagePullSecrets:*core.LocalObjectReference 4:automountServiceAccountToken:t',
  'core.ServiceAccountTokenProjection': '1:audience:s 2:expirationSeconds:i 3:path:s 4:user:i',
  'core.ServicePort':
    '1:name:s 2:protocol:s 6:appProtocol:s 3:port:i 4:targetPort:intstr.IntOrString 5:nodePort:i',
  'core.ServiceSpec':
    '1:ports:*core.ServicePort 2:selector:@s 3:clusterIP:s 18:clusterIPs:*s 4:type:s 5:externalIPs:*s 7:sessionAffinity:s 8:loadBalancerIP:s 9:loadBalancerSourceRanges:*s 10:externalName:s 11:externalTrafficPolicy:s 12:healthCheckNodePort:i 13:publishNotReadyAddresses:t 14:sessionAffinityConfig:core.SessionAffinityConfig 19:ipFamilies:*s 17:ipFamilyPolicy:s 20:allocateLoadBalancerNodePorts:t 21:loadBalancerClass:s 22:internalTrafficPolicy:s 23:trafficDistribution:s',
  'core.ServiceStatus': '1:loadBalancer:core.LoadBalancerStatus 2:conditions:*meta.Condition',
  'core.SessionAffinityConfig': '1:clientIP:core.ClientIPConfig',
  'core.SleepAction': '1:seconds:i',
  'core.StorageOSPersistentVolumeSource':
    '1:volumeName:s 2:volumeNamespace:s 3:fsType:s 4:readOnly:t 5:secretRef:core.ObjectReference',
  'core.StorageOSVolumeSource':
    '1:volumeName:s 2:volumeNamespace:s 3:fsType:s 4:readOnly:t 5:secretRef:core.LocalObjectReference',
  'core.Sysctl': '1:name:s 2:value:s',
  'core.TCPSocketAction': '1:port:intstr.IntOrString 2:host:s',
  'core.Taint': '1:key:s 2:value:s 3:effect:s 4:timeAdded:meta.Time',
  'core.Toleration': '1:key:s 2:operator:s 3:value:s 4:effect:s 5:tolerationSeconds:i',
  'core.TopologySpreadConstraint':
    '1:maxSkew:i 2:topologyKey:s 3:whenUnsatisfiable:s 4:labelSelector:meta.LabelSelector 5:minDomains:i 6:nodeAffinityPolicy:s 7:nodeTaintsPolicy:s 8:matchLabelKeys:*s',
  'core.TypedLocalObjectReference': '1:apiGroup:s 2:kind:s 3:name:s',
  'core.TypedObjectReference': '1:apiGroup:s 2:kind:s 3:name:s 4:namespace:s',
  'core.Volume': '1:name:s 2:volumeSource:core.VolumeSource',
  'core.VolumeDevice': '1:name:s 2:devicePath:s',
  'core.VolumeHealthCondition': '1:status:s 2:reason:s 3:message:s',
  'core.VolumeHealthStatus': '1:healthConditions:*core.VolumeHealthCondition 2:lastTransitionTime:meta.Time',
  'core.VolumeMount':
    '1:name:s 2:readOnly:t 7:recursiveReadOnly:s 3:mountPath:s 4:subPath:s 5:mountPropagation:s 6:subPathExpr:s 8:bindMountOptions:*s',
  'core.VolumeMountStatus':
    '1:name:s 2:mountPath:s 3:readOnly:t 4:recursiveReadOnly:s 5:volumeStatus:core.VolumeStatus',
  'core.VolumeNodeAffinity': '1:required:core.NodeSelector',
  'core.VolumeProjection':
    '1:secret:core.SecretProjection 2:downwardAPI:core.DownwardAPIProjection 3:configMap:core.ConfigMapProjection 4:serviceAccountToken:core.ServiceAccountTokenProjection 5:clusterTrustBundle:core.ClusterTrustBundleProjection 6:podCertificate:core.PodCertificateProjection',
  'core.VolumeResourceRequirements': '1:limits:@resource.Quantity 2:requests:@resource.Quantity',
  'core.VolumeSource':
    '1:hostPath:core.HostPathVolumeSource 2:emptyDir:core.EmptyDirVolumeSource 3:gcePersistentDisk:core.GCEPersistentDiskVolumeSource 4:awsElasticBlockStore:core.AWSElasticBlockStoreVolumeSource 5:gitRepo:core.GitRepoVolumeSource 6:secret:core.SecretVolumeSource 7:nfs:core.NFSVolumeSource 8:iscsi:core.ISCSIVolumeSource 9:glusterfs:core.GlusterfsVolumeSource 10:persistentVolumeClaim:core.PersistentVolumeClaimVolumeSource 11:rbd:core.RBDVolumeSource 12:flexVolume:core.FlexVolumeSource 13:cinder:core.CinderVolumeSource 14:cephfs:core.CephFSVolumeSource 15:flocker:core.FlockerVolumeSource 16:downwardAPI:core.DownwardAPIVolumeSource 17:fc:core.FCVolumeSource 18:azureFile:core.AzureFileVolumeSource 19:configMap:core.ConfigMapVolumeSource 20:vsphereVolume:core.VsphereVirtualDiskVolumeSource 21:quobyte:core.QuobyteVolumeSource 22:azureDisk:core.AzureDiskVolumeSource 23:photonPersistentDisk:core.PhotonPersistentDiskVolumeSource 26:projected:core.ProjectedVolumeSource 24:portworxVolume:core.PortworxVolumeSource 25:scaleIO:core.ScaleIOVolumeSource 27:storageos:core.StorageOSVolumeSource 28:csi:core.CSIVolumeSource 29:ephemeral:core.EphemeralVolumeSource 30:image:core.ImageVolumeSource',
  'core.VolumeStatus': '1:image:core.ImageVolumeStatus',
  'core.VsphereVirtualDiskVolumeSource':
    '1:volumePath:s 2:fsType:s 3:storagePolicyName:s 4:storagePolicyID:s',
  'core.WeightedPodAffinityTerm': '1:weight:i 2:podAffinityTerm:core.PodAffinityTerm',
  'core.WindowsSecurityContextOptions':
    '1:gmsaCredentialSpecName:s 2:gmsaCredentialSpec:s 3:runAsUserName:s 4:hostProcess:t',
  'meta.Condition':
    '1:type:s 2:status:s 3:observedGeneration:i 4:lastTransitionTime:meta.Time 5:reason:s 6:message:s',
  'meta.DeleteOptions':
    '1:gracePeriodSeconds:i 2:preconditions:meta.Preconditions 3:orphanDependents:t 4:propagationPolicy:s 5:dryRun:*s 6:ignoreStoreReadErrorWithClusterBreakingPotential:t',
  'meta.FieldSelectorRequirement': '1:key:s 2:operator:s 3:values:*s',
  'meta.LabelSelector': '1:matchLabels:@s 2:matchExpressions:*meta.LabelSelectorRequirement',
  'meta.LabelSelectorRequirement': '1:key:s 2:operator:s 3:values:*s',
  'meta.ManagedFieldsEntry':
    '1:manager:s 2:operation:s 3:apiVersion:s 4:time:meta.Time 6:fieldsType:s 7:fieldsV1:meta.FieldsV1 8:subresource:s',
  'meta.ObjectMeta':
    '1:name:s 2:generateName:s 3:namespace:s 4:selfLink:s 5:uid:s 6:resourceVersion:s 7:generation:i 8:creationTimestamp:meta.Time 9:deletionTimestamp:meta.Time 10:deletionGracePeriodSeconds:i 11:labels:@s 12:annotations:@s 13:ownerReferences:*meta.OwnerReference 14:finalizers:*s 17:managedFields:*meta.ManagedFieldsEntry',
  'meta.OwnerReference': '5:apiVersion:s 1:kind:s 3:name:s 4:uid:s 6:controller:t 7:blockOwnerDeletion:t',
  'meta.Preconditions': '1:uid:s 2:resourceVersion:s',
  'networking.HTTPIngressPath': '1:path:s 3:pathType:s 2:backend:networking.IngressBackend',
  'networking.HTTPIngressRuleValue': '1:paths:*networking.HTTPIngressPath',
  'networking.IPBlock': '1:cidr:s 2:except:*s',
  'networking.Ingress':
    '1:metadata:meta.ObjectMeta 2:spec:networking.IngressSpec 3:status:networking.IngressStatus',
  'networking.IngressBackend':
    '4:service:networking.IngressServiceBackend 3:resource:core.TypedLocalObjectReference',
  'networking.IngressClass': '1:metadata:meta.ObjectMeta 2:spec:networking.IngressClassSpec',
  'networking.IngressClassParametersReference': '1:aPIGroup:s 2:kind:s 3:name:s 4:scope:s 5:namespace:s',
  'networking.IngressClassSpec': '1:controller:s 2:parameters:networking.IngressClassParametersReference',
  'networking.IngressLoadBalancerIngress': '1:ip:s 2:hostname:s 4:ports:*networking.IngressPortStatus',
  'networking.IngressLoadBalancerStatus': '1:ingress:*networking.IngressLoadBalancerIngress',
  'networking.IngressPortStatus': '1:port:i 2:protocol:s 3:error:s',
  'networking.IngressRule': '1:host:s 2:ingressRuleValue:networking.IngressRuleValue',
  'networking.IngressRuleValue': '1:http:networking.HTTPIngressRuleValue',
  'networking.IngressServiceBackend': '1:name:s 2:port:networking.ServiceBackendPort',
  'networking.IngressSpec':
    '4:ingressClassName:s 1:defaultBackend:networking.IngressBackend 2:tls:*networking.IngressTLS 3:rules:*networking.IngressRule',
  'networking.IngressStatus': '1:loadBalancer:networking.IngressLoadBalancerStatus',
  'networking.IngressTLS': '1:hosts:*s 2:secretName:s',
  'networking.NetworkPolicy': '1:metadata:meta.ObjectMeta 2:spec:networking.NetworkPolicySpec',
  'networking.NetworkPolicyEgressRule':
    '1:ports:*networking.NetworkPolicyPort 2:to:*networking.NetworkPolicyPeer',
  'networking.NetworkPolicyIngressRule':
    '1:ports:*networking.NetworkPolicyPort 2:from:*networking.NetworkPolicyPeer',
  'networking.NetworkPolicyPeer':
    '1:podSelector:meta.LabelSelector 2:namespaceSelector:meta.LabelSelector 3:ipBlock:networking.IPBlock',
  'networking.NetworkPolicyPort': '1:protocol:s 2:port:intstr.IntOrString 3:endPort:i',
  'networking.NetworkPolicySpec':
    '1:podSelector:meta.LabelSelector 2:ingress:*networking.NetworkPolicyIngressRule 3:egress:*networking.NetworkPolicyEgressRule 4:policyTypes:*s',
  'networking.ServiceBackendPort': '1:name:s 2:number:i',
  'policy.Eviction': '1:metadata:meta.ObjectMeta 2:deleteOptions:meta.DeleteOptions',
  'policy.PodDisruptionBudget':
    '1:metadata:meta.ObjectMeta 2:spec:policy.PodDisruptionBudgetSpec 3:status:policy.PodDisruptionBudgetStatus',
  'policy.PodDisruptionBudgetSpec':
    '1:minAvailable:intstr.IntOrString 2:selector:meta.LabelSelector 3:maxUnavailable:intstr.IntOrString 4:unhealthyPodEvictionPolicy:s',
  'policy.PodDisruptionBudgetStatus':
    '1:observedGeneration:i 2:disruptedPods:@meta.Time 3:disruptionsAllowed:i 4:currentHealthy:i 5:desiredHealthy:i 6:expectedPods:i 7:conditions:*meta.Condition',
  'rbac.AggregationRule': '1:clusterRoleSelectors:*meta.LabelSelector',
  'rbac.ClusterRole':
    '1:metadata:meta.ObjectMeta 2:rules:*rbac.PolicyRule 3:aggregationRule:rbac.AggregationRule',
  'rbac.ClusterRoleBinding': '1:metadata:meta.ObjectMeta 2:subjects:*rbac.Subject 3:roleRef:rbac.RoleRef',
  'rbac.PolicyRule': '1:verbs:*s 2:apiGroups:*s 3:resources:*s 4:resourceNames:*s 5:nonResourceURLs:*s',
  'rbac.Role': '1:metadata:meta.ObjectMeta 2:rules:*rbac.PolicyRule',
  'rbac.RoleBinding': '1:metadata:meta.ObjectMeta 2:subjects:*rbac.Subject 3:roleRef:rbac.RoleRef',
  'rbac.RoleRef': '1:apiGroup:s 2:kind:s 3:name:s',
  'rbac.Subject': '1:kind:s 2:apiGroup:s 3:name:s 4:namespace:s',
  'scheduling.PriorityClass':
    '1:metadata:meta.ObjectMeta 2:value:i 3:globalDefault:t 4:description:s 5:preemptionPolicy:s',
};
