# placement-scheduler — see README.md.
GO        ?= go
BIN       ?= bin
# Our release is written once, in VERSION; the Kubernetes release once, in
# go.mod (the k8s.io/kubernetes requirement). Everything else derives from
# those two: --version, kubernetes_build_info, the image tag, the archives.
VERSION   ?= $(shell cat VERSION)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null)
K8S       := $(shell $(GO) list -m -f '{{.Version}}' k8s.io/kubernetes)
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
# Fuzz each target this much in `make test`; run longer by hand (README). A
# count, not a duration: Go 1.26's fuzz coordinator can report a spurious
# "context deadline exceeded" when a duration runs out (go.dev/issue/75804).
FUZZTIME  ?= 3000x
PKGS      := ./pkg/... ./cmd/... ./internal/... ./manifests/... ./hack/... ./test/bench/...

BENCHSTAT := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
# The linter runs from the module proxy at a pinned version, outside go.mod;
# staticcheck.conf enables every check (the code passes them all).
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
BENCHCOUNT ?= 6

# ROUNDS runs the whole set that many times; the report keeps each
# profile's median. BENCHRUN narrows it, e.g.
# BENCHRUN='BenchmarkPerfSchedulingPlacement/PodAntiAffinity_.*'.
ROUNDS    ?= 1
BENCHRUN  ?= BenchmarkPerfSchedulingPlacement
BENCHFLAGS = -vet=off -run '^$$' -bench '$(BENCHRUN)' -benchtime 1x -timeout 180m

.PHONY: all build scheduler kubectl-plugin run test unit race integration fuzz lint fmt image dist bench-plugins bench bench-full bench-scale bench-smoke

all: build

build: scheduler kubectl-plugin

scheduler:
	$(GO) build -ldflags "$(LDFLAGS) $(EXTRA_LDFLAGS)" -o $(BIN)/placement-scheduler ./cmd/placement-scheduler

kubectl-plugin:
	$(GO) build -ldflags "$(LDFLAGS) $(EXTRA_LDFLAGS)" -o $(BIN)/kubectl-placement ./cmd/kubectl-placement

# The sandbox builds from the module cache so the apiserver test server finds
# its certificate fixtures (never -trimpath).
run:
	$(GO) run -ldflags "$(LDFLAGS)" ./cmd/placement-sandbox $(ARGS)

test: lint unit race fuzz integration bench-smoke

unit:
	$(GO) test -count=1 -vet=off -ldflags "$(LDFLAGS)" $(PKGS)

# The plugins under the race detector: preemption runs AddPod/RemovePod on
# cloned states while Filter and Score run in parallel and the next cycle
# refreshes the shared index (TestConcurrentCycles).
race:
	$(GO) test -race -count=1 -vet=off ./pkg/plugins/...

integration:
	$(GO) test -count=1 -vet=off -timeout 20m -ldflags "$(LDFLAGS)" ./test/integration/...

# Every Fuzz target of every package, each for FUZZTIME (inputs or a duration).
fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -vet=off -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f"; \
	    $(GO) test -vet=off -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

# scheduler_perf needs an etcd binary; it builds from the module graph.
$(BIN)/etcd: go.mod
	$(GO) build -o $(BIN)/etcd go.etcd.io/etcd/server/v3

# Throughput of both profiles in one run (test/bench). `bench` uses 500 nodes
# and rewrites docs/benchmarks.*; `bench-full` 5,000 nodes (docs/5000-nodes/);
# `bench-scale` the affinity workloads at 5,000 nodes with 1,000, 5,000 and
# 10,000 existing pods (docs/5000-nodes-scale/; they are part of bench-full
# too); `bench-smoke` (part of `make test`) a few nodes, to keep the harness
# compiling and running.
bench bench-full bench-scale bench-smoke: $(BIN)/etcd
	@rm -rf _output/$@ && mkdir -p _output/$@
	@for round in $$(seq $(ROUNDS)); do \
	  echo "round $$round of $(ROUNDS)"; \
	  PATH="$(CURDIR)/$(BIN):$$PATH" PLACEMENT_BENCH_ROUND=$$round $(GO) test $(BENCHFLAGS) ./test/bench/ \
	    -args -perf-scheduling-label-filter=$(patsubst bench-smoke,smoke,$@) -data-items-dir=$(CURDIR)/_output/$@ > _output/$@/go-test-$$round.log 2>&1 \
	    || { tail -50 _output/$@/go-test-$$round.log; exit 1; }; \
	done
	$(GO) run ./test/bench/report -data _output/$@ $(if $(filter bench,$@),-docs docs) $(if $(filter bench-full,$@),-docs docs/5000-nodes) $(if $(filter bench-scale,$@),-docs docs/5000-nodes-scale)

# Each plugin beside its in-tree twin on 500 and 5,000 nodes; benchstat
# prints ours against upstream (ratios in the "vs base" column).
bench-plugins:
	@mkdir -p _output
	$(GO) test -run '^$$' -bench . -count $(BENCHCOUNT) ./pkg/plugins/... | tee _output/bench-plugins.txt
	$(GO) run $(BENCHSTAT) -col /impl _output/bench-plugins.txt

lint:
	@out=$$(gofmt -l cmd pkg internal hack test manifests); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

fmt:
	gofmt -w cmd pkg internal hack test manifests

# The image carries the same version stamps as `make build`.
image:
	docker build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) -t $(IMAGE):$(VERSION) .

# Release archives: the scheduler for Linux, the kubectl plugin for Linux,
# macOS and Windows, each with LICENSE; checksums.txt; and the krew manifest
# placement.yaml whose sha256 values are the archives'. Cross-compiling takes
# a while, so `make test` checks only the packaging (hack/dist's tests).
DIST           ?= _output/dist
DIST_SCHEDULER ?= linux/amd64 linux/arm64
DIST_PLUGIN    ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
dist:
	rm -rf $(DIST) && mkdir -p $(DIST)/bin
	@set -e; for p in $(DIST_SCHEDULER); do os=$${p%/*}; arch=$${p#*/}; echo "placement-scheduler $$os/$$arch"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags "$(LDFLAGS) -s -w" \
	    -o $(DIST)/bin/placement-scheduler_$${os}_$${arch}/placement-scheduler ./cmd/placement-scheduler; done
	@set -e; for p in $(DIST_PLUGIN); do os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; echo "kubectl-placement $$os/$$arch"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags "$(LDFLAGS) -s -w" \
	    -o $(DIST)/bin/kubectl-placement_$${os}_$${arch}/kubectl-placement$$ext ./cmd/kubectl-placement; done
	$(GO) run ./hack/dist -version $(VERSION) -bin $(DIST)/bin -out $(DIST)
	@ls -l $(DIST)
