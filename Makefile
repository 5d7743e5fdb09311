# placement-scheduler — see README.md.
GO        ?= go
BIN       ?= bin
# Our release is written once, in VERSION; the Kubernetes release once, in
# go.mod (the k8s.io/kubernetes requirement). Everything else derives from
# those two: --version, kubernetes_build_info, the image tag, the archives.
VERSION   ?= $(shell cat VERSION)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null)
# Read from go.mod's require line, without running go on every make call.
K8S       := $(shell awk '$$1 == "k8s.io/kubernetes" && $$2 ~ /^v/ { print $$2; exit }' go.mod)
K8S_MAJOR := $(patsubst v%,%,$(word 1,$(subst ., ,$(K8S))))
K8S_MINOR := $(word 2,$(subst ., ,$(K8S)))
IMAGE     ?= ghcr.io/kube-placement/placement-scheduler
# Our version, and the Kubernetes release the scheduler reports as its own
# (the apiserver test server and kubectl read it too).
LDFLAGS   := -X github.com/kube-placement/placement-scheduler/pkg/version.Version=$(VERSION) \
             -X github.com/kube-placement/placement-scheduler/pkg/version.Commit=$(COMMIT) \
             -X k8s.io/component-base/version.gitVersion=$(K8S) \
             -X k8s.io/component-base/version.gitMajor=$(K8S_MAJOR) \
             -X k8s.io/component-base/version.gitMinor=$(K8S_MINOR)
# Fuzz each target this many inputs in `make test`; run longer by hand with a
# larger count (FUZZTIME=1000000x), never a duration: Go 1.26's fuzz
# coordinator can report a spurious "context deadline exceeded" when a
# duration runs out (go.dev/issue/75804).
FUZZTIME  ?= 3000x
PKGS      := ./pkg/... ./cmd/... ./internal/... ./manifests/... ./hack/... ./test/bench/... ./test/soak/... ./test/scale/...

BENCHSTAT := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
# The linter runs from the module proxy at a pinned version, outside go.mod;
# staticcheck.conf enables every check (the code passes them all).
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
BENCHCOUNT ?= 6

# ROUNDS runs a perf target's whole set that many times; the report keeps
# each profile's median. PERFRUN narrows it, e.g.
# PERFRUN='BenchmarkPerfSchedulingPlacement/PodAntiAffinity_.*'.
ROUNDS    ?= 1
PERFRUN   ?= BenchmarkPerfSchedulingPlacement
PERFFLAGS  = -vet=off -run '^$$' -bench '$(PERFRUN)' -benchtime 1x -timeout 180m

.PHONY: faults soak scale image-oci help all build scheduler kubectl-plugin run test unit race integration fuzz lint fmt image dist clean bench perf perf-full perf-scale perf-scale-cpu perf-smoke perf-records

all: build

# Every target with a "## " comment, one line each.
help:
	@awk -F':.*## ' '/^[a-z][a-z-]*:.*## / { printf "  %-15s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

build: scheduler kubectl-plugin ## both binaries into bin/

scheduler: ## bin/placement-scheduler
	$(GO) build -ldflags "$(LDFLAGS) $(EXTRA_LDFLAGS)" -o $(BIN)/placement-scheduler ./cmd/placement-scheduler

kubectl-plugin: ## bin/kubectl-placement
	$(GO) build -ldflags "$(LDFLAGS) $(EXTRA_LDFLAGS)" -o $(BIN)/kubectl-placement ./cmd/kubectl-placement

# The sandbox builds from the module cache so the apiserver test server finds
# its certificate fixtures (never -trimpath).
run: ## the sandbox: a local control plane, the scheduler and the examples (ARGS=... for flags)
	$(GO) run -ldflags "$(LDFLAGS)" ./cmd/placement-sandbox $(ARGS)

test: lint unit race fuzz integration perf-smoke ## what CI runs: lint, unit, race, fuzz, integration, perf-smoke

unit: ## every package's tests but the integration tests
	$(GO) test -count=1 -vet=off -timeout 30m -ldflags "$(LDFLAGS)" $(PKGS)

# The plugins under the race detector: preemption runs AddPod/RemovePod on
# cloned states while Filter and Score run in parallel and the next cycle
# refreshes the shared index (TestConcurrentCycles).
race: ## the plugins' tests under the race detector
	$(GO) test -race -count=1 -vet=off ./pkg/plugins/...

# The log of a failing run ends with the apiserver's shutdown lines; the
# names of the failed tests and their assertions are repeated last, where a
# CI log cut to its tail still shows them.
integration: SHELL := /bin/bash
integration: ## test/integration: a real apiserver, etcd and scheduler in-process
	@mkdir -p _output
	@set -o pipefail; $(GO) test -count=1 -vet=off -timeout 20m -ldflags "$(LDFLAGS)" ./test/integration/... 2>&1 | tee _output/integration.log \
	  || { echo "=== integration failures:"; grep -E -- '--- FAIL|^\s+[a-z_]+_test\.go:[0-9]+:|^panic:|test timed out' _output/integration.log | tail -40; exit 1; }

# Every Fuzz target of every package, each for FUZZTIME (inputs or a duration).
fuzz: ## every fuzz target, FUZZTIME inputs each
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -vet=off -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f"; \
	    $(GO) test -vet=off -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

# scheduler_perf needs an etcd binary; it builds from the module graph.
$(BIN)/etcd: go.mod
	$(GO) build -o $(BIN)/etcd go.etcd.io/etcd/server/v3

# Throughput of both profiles in one run (test/bench, upstream's
# scheduler_perf): `perf` uses 500 nodes (docs/500-nodes/); `perf-full`
# 5,000 nodes (docs/5000-nodes/); `perf-scale` the affinity workloads at
# 5,000 nodes with 1,000, 5,000 and 10,000 existing pods
# (docs/5000-nodes-scale/; part of perf-full too); `perf-smoke` (part of
# `make test`) a few nodes, to keep the harness compiling and running. Each
# maps to the label of its workloads in test/bench/workloads.yaml.
perf_label = $(patsubst perf,bench,$(patsubst perf-full,bench-full,$(patsubst perf-scale,bench-scale,$(patsubst perf-smoke,smoke,$(1)))))
perf_docs  = $(if $(filter perf,$(1)),docs/500-nodes,$(if $(filter perf-full,$(1)),docs/5000-nodes,$(if $(filter perf-scale,$(1)),docs/5000-nodes-scale)))

perf: $(BIN)/etcd ## scheduler_perf, default profile vs ours, 500 nodes (about 15 min a round)
perf-full: $(BIN)/etcd ## the same at 5,000 nodes (hours a round)
perf-scale: $(BIN)/etcd ## the affinity workloads at 5,000 nodes and 1,000-10,000 existing pods
perf-smoke: $(BIN)/etcd ## a few nodes: the harness compiles and runs
perf perf-full perf-scale perf-smoke:
	@rm -rf _output/$@ && mkdir -p _output/$@
	@for round in $$(seq $(ROUNDS)); do \
	  echo "round $$round of $(ROUNDS)"; \
	  PATH="$(CURDIR)/$(BIN):$$PATH" PLACEMENT_BENCH_ROUND=$$round $(GO) test $(PERFFLAGS) ./test/bench/ \
	    -args -perf-scheduling-label-filter=$(call perf_label,$@) -data-items-dir=$(CURDIR)/_output/$@ > _output/$@/go-test-$$round.log 2>&1 \
	    || { tail -50 _output/$@/go-test-$$round.log; exit 1; }; \
	done
	$(GO) run ./test/bench/report -data _output/$@ $(if $(call perf_docs,$@),-docs $(call perf_docs,$@))

# CPU time per pod of the scale workloads, one process per existing-pod
# count and round (so that one size's heap does not weigh on the next), with
# SchedulingBasic beside the affinity workloads; writes
# docs/5000-nodes-scale-cpu/. SIZES narrows it.
SIZES ?= 1000 5000
perf-scale-cpu: $(BIN)/etcd ## CPU per pod at 5,000 nodes, one process per size and round (docs/5000-nodes-scale-cpu/)
	@rm -rf _output/$@ && mkdir -p _output/$@
	$(GO) test -c -vet=off -o _output/$@/bench.test ./test/bench
	@set -e; for round in $$(seq $(ROUNDS)); do for size in $(SIZES); do \
	  echo "round $$round of $(ROUNDS), $$size existing pods"; \
	  (cd test/bench && PATH="$(CURDIR)/$(BIN):$$PATH" PLACEMENT_BENCH_ROUND=$$round $(CURDIR)/_output/$@/bench.test -test.run '^$$' -test.timeout 180m \
	    -test.bench "BenchmarkPerfSchedulingPlacement/^(SchedulingBasic|PodAntiAffinityScale|PodAffinity|PreferredPodAntiAffinity)_(default|fastpath|placement)\$$/^5000Nodes_$${size}InitPods\$$" \
	    -test.benchtime 1x -perf-scheduling-label-filter=bench-scale -data-items-dir=$(CURDIR)/_output/$@) > _output/$@/go-test-$$round-$$size.log 2>&1 \
	    || { tail -50 _output/$@/go-test-$$round-$$size.log; exit 1; }; \
	done; done
	$(GO) run ./test/bench/report -data _output/$@ -docs docs/5000-nodes-scale-cpu

# What recording decisions costs: SchedulingBasic and hostname anti-affinity
# scheduled by two profiles of one in-process scheduler, recording on and
# off, adjacent and alternating, ROUNDS rounds; medians, with CPU per pod
# and record writes per pod; then the CPU of storing records alone
# (test/bench/records; docs/decisions.md).
RECORDSFLAGS ?= -nodes 5000 -pods 1000
perf-records: ## decision recording on vs off, 5,000 nodes (docs/decisions.md)
	@mkdir -p _output
	$(GO) test -run '^$$' -bench 'BenchmarkRecord(ing|Writes)$$' -benchtime 1x -timeout 3h -v ./test/bench/records/ -args $(RECORDSFLAGS) -rounds $(ROUNDS) 2>&1 \
	  | grep -E 'records_test.go|writes_test.go|^Benchmark|^ok|FAIL' | tee _output/perf-records.txt

# Each plugin beside its in-tree twin on 500 and 5,000 nodes (Go
# benchmarks); benchstat prints ours against upstream (ratios in the "vs
# base" column).
bench: ## Go benchmarks: each plugin beside its in-tree twin, with benchstat
	@mkdir -p _output
	$(GO) test -run '^$$' -bench . -count $(BENCHCOUNT) ./pkg/plugins/... | tee _output/bench.txt
	$(GO) run $(BENCHSTAT) -col /impl _output/bench.txt

lint: ## gofmt, go vet, staticcheck
	@out=$$(gofmt -l cmd pkg internal hack test manifests); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

fmt: ## gofmt -w
	gofmt -w cmd pkg internal hack test manifests

# The image carries the same version stamps as `make build`.
image: ## the container image, with Docker
	docker build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) -t $(IMAGE):$(VERSION) .

# The same image without a container daemon (hack/image): the binary built
# as the Dockerfile builds it (the same `make scheduler`, static, -trimpath,
# stripped), on an empty base, as an OCI layout and a `docker load` tarball
# in IMAGE_OUT. hack/image's test builds it and checks it.
IMAGE_OUT ?= _output/image
image-oci: ## the image without Docker: OCI layout and tarball in IMAGE_OUT
	CGO_ENABLED=0 GOFLAGS=-trimpath $(MAKE) --no-print-directory scheduler BIN=$(IMAGE_OUT)/bin EXTRA_LDFLAGS="-s -w"
	$(GO) run ./hack/image -binary $(IMAGE_OUT)/bin/placement-scheduler -image $(IMAGE):$(VERSION) \
	  -version $(VERSION) -commit "$(COMMIT)" -oci $(IMAGE_OUT)/oci -tarball $(IMAGE_OUT)/placement-scheduler.tar

# print-VAR prints a variable as make sees it (tests read VERSION, IMAGE, COMMIT).
print-%:
	@echo '$($*)'

# Release archives: the scheduler for Linux, the kubectl plugin for Linux,
# macOS and Windows, each with LICENSE; checksums.txt; and the krew manifest
# placement.yaml whose sha256 values are the archives'. Cross-compiling takes
# a while, so `make test` checks only the packaging (hack/dist's tests).
DIST           ?= _output/dist
DIST_SCHEDULER ?= linux/amd64 linux/arm64
DIST_PLUGIN    ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
dist: ## release archives, checksums and the krew manifest into DIST
	rm -rf $(DIST) && mkdir -p $(DIST)/bin
	@set -e; for p in $(DIST_SCHEDULER); do os=$${p%/*}; arch=$${p#*/}; echo "placement-scheduler $$os/$$arch"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags "$(LDFLAGS) -s -w" \
	    -o $(DIST)/bin/placement-scheduler_$${os}_$${arch}/placement-scheduler ./cmd/placement-scheduler; done
	@set -e; for p in $(DIST_PLUGIN); do os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; echo "kubectl-placement $$os/$$arch"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags "$(LDFLAGS) -s -w" \
	    -o $(DIST)/bin/kubectl-placement_$${os}_$${arch}/kubectl-placement$$ext ./cmd/kubectl-placement; done
	$(GO) run ./hack/dist -version $(VERSION) -bin $(DIST)/bin -out $(DIST)
	@ls -l $(DIST)

# By hand, not in `make test`: hours of churn with a fault every few minutes.
# SOAK=2h is the documented run; SOAKFLAGS adds test/soak's flags.
SOAK      ?= 2h
faults: ## the fault tests alone (TestFault*: apiserver restart, relist, partition, slow binds, node deletion, a minute without the apiserver, slow record writes)
	$(GO) test -count=1 -vet=off -timeout 20m -ldflags "$(LDFLAGS)" ./test/integration/ -run 'TestFault' -v

soak: scheduler ## the built scheduler for SOAK (2h) under churn and faults; report in _output/soak/soak.md
	@rm -rf _output/soak && mkdir -p _output/soak
	$(GO) run ./test/soak -scheduler $(BIN)/placement-scheduler -duration $(SOAK) -out _output/soak $(SOAKFLAGS)

# By hand: every kubectl placement command against 5,000 nodes and 150,000
# pods (about 45 minutes: 6 to fill the cluster, 12 for one drift -A);
# SCALEFLAGS adds test/scale's flags (-report docs/scale.md publishes it).
scale: kubectl-plugin scheduler ## kubectl placement at 5,000 nodes / 150,000 pods: wall time, CPU, peak memory; the scheduler's heap with recording on and off; report in _output/scale/scale.md
	@rm -rf _output/scale && mkdir -p _output/scale
	$(GO) run ./test/scale -kubectl-placement $(BIN)/kubectl-placement -scheduler $(BIN)/placement-scheduler -out _output/scale $(SCALEFLAGS)

clean: ## remove bin/ and _output/ (build and benchmark output)
	rm -rf $(BIN) _output
