{{/* The chart's name, or nameOverride. */}}
{{- define "placement-scheduler.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's object name: the release name when it already holds the chart's name. */}}
{{- define "placement-scheduler.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "placement-scheduler.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Labels that select the scheduler's pods. */}}
{{- define "placement-scheduler.selectorLabels" -}}
app.kubernetes.io/name: {{ include "placement-scheduler.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "placement-scheduler.labels" -}}
{{ include "placement-scheduler.selectorLabels" . }}
app.kubernetes.io/version: {{ include "placement-scheduler.tag" . | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "placement-scheduler.tag" -}}
{{- default .Chart.AppVersion .Values.image.tag -}}
{{- end -}}

{{- define "placement-scheduler.leaseName" -}}
{{- default (include "placement-scheduler.fullname" .) .Values.leaderElection.resourceName -}}
{{- end -}}

{{/*
The KubeSchedulerConfiguration: manifests/scheduler-config.yaml (the chart's
files/scheduler-config.yaml links to it) with the values applied. With the
default values it is that file, object for object (TestChartDefaultConfig), so
the plugin list is kept in one place.
*/}}
{{- define "placement-scheduler.config" -}}
{{- $cfg := .Files.Get "files/scheduler-config.yaml" | fromYaml -}}
{{- $le := $cfg.leaderElection -}}
{{- $_ := set $le "leaderElect" .Values.leaderElection.enabled -}}
{{- $_ := set $le "resourceNamespace" .Release.Namespace -}}
{{- $_ := set $le "resourceName" (include "placement-scheduler.leaseName" .) -}}
{{- range $key := list "leaseDuration" "renewDeadline" "retryPeriod" -}}
{{- with index $.Values.leaderElection $key -}}
{{- $_ := set $le $key . -}}
{{- end -}}
{{- end -}}
{{- $main := first $cfg.profiles -}}
{{- $_ := set $main "schedulerName" .Values.schedulerName -}}
{{- $pluginConfig := list -}}
{{- range $main.pluginConfig -}}
{{- if eq .name "PlacementPodAffinity" -}}
{{- $_ := set .args "hardPodAffinityWeight" $.Values.plugins.podAffinity.hardPodAffinityWeight -}}
{{- $_ := set .args "ignorePreferredTermsOfExistingPods" $.Values.plugins.podAffinity.ignorePreferredTermsOfExistingPods -}}
{{- end -}}
{{- if eq .name "PlacementDecisions" -}}
{{- $args := .args -}}
{{- range $key := list "topNodes" "retention" "maxRecords" "queueSize" -}}
{{- $_ := set $args $key (index $.Values.plugins.decisions $key) -}}
{{- end -}}
{{- end -}}
{{- if and (ne .name "PlacementNodeAffinity") (or (ne .name "PlacementDecisions") $.Values.plugins.decisions.enabled) -}}
{{- $pluginConfig = append $pluginConfig . -}}
{{- end -}}
{{- end -}}
{{- if not .Values.plugins.decisions.enabled -}}
{{- $enabled := list -}}
{{- range $main.plugins.multiPoint.enabled -}}
{{- if ne .name "PlacementDecisions" -}}
{{- $enabled = append $enabled . -}}
{{- end -}}
{{- end -}}
{{- $_ := set $main.plugins.multiPoint "enabled" $enabled -}}
{{- end -}}
{{- with .Values.plugins.nodeAffinity.addedAffinity -}}
{{- $pluginConfig = append $pluginConfig (dict "name" "PlacementNodeAffinity" "args" (dict "addedAffinity" .)) -}}
{{- end -}}
{{- $_ := set $main "pluginConfig" $pluginConfig -}}
{{- $profiles := list $main -}}
{{- range .Values.extraProfiles -}}
{{- $profile := deepCopy . -}}
{{- if not (hasKey $profile "plugins") -}}
{{- $_ := set $profile "plugins" (deepCopy $main.plugins) -}}
{{- end -}}
{{- if not (hasKey $profile "pluginConfig") -}}
{{- $_ := set $profile "pluginConfig" (deepCopy $main.pluginConfig) -}}
{{- end -}}
{{- $profiles = append $profiles $profile -}}
{{- end -}}
{{- $_ := set $cfg "profiles" $profiles -}}
{{- toYaml $cfg -}}
{{- end -}}
