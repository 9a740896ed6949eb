# authstack — build, test and code generation.
# `make help` lists the targets.

GO ?= go
BIN ?= bin/authstack
GOTEST_FLAGS ?= -race -count=1 -timeout 20m

.DEFAULT_GOAL := help

##@ General

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: build
build: ## Build the authstack binary into bin/: static (CGO_ENABLED=0), as the image ships it
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) .

IMG ?= authstack:dev
CONTAINER_TOOL ?= docker

.PHONY: docker-build
docker-build: ## Build the image (Dockerfile: make build on golang, then the binary alone on distroless nonroot)
	$(CONTAINER_TOOL) build -t $(IMG) .

# Images for a node without a registry (docs/operations.md): docker-archive
# tars for `ctr -n k8s.io images import`, built by hack/imagearchive from
# make build, a static pause program and Debian's redis-server.
IMAGES ?= bin/images
AUTHSTACK_IMAGE ?= docker.io/local/authstack:dev
PAUSE_IMAGE ?= registry.k8s.io/pause:3.10
REDIS_IMAGE ?= docker.io/local/redis:dev
LOADGEN_IMAGE ?= docker.io/local/loadgen:dev

.PHONY: image-archives
image-archives: test-deps ## Write bin/images/{authstack,pause,redis,loadgen}.tar (docker-archive, no registry or base image) for ctr images import
	@mkdir -p $(IMAGES)
	$(MAKE) --no-print-directory build BIN=$(IMAGES)/authstack
	CGO_ENABLED=0 $(GO) build -trimpath -o $(IMAGES)/pause ./hack/imagearchive/pause
	CGO_ENABLED=0 $(GO) build -trimpath -o $(IMAGES)/loadgen ./test/cluster/loadgen
	CGO_ENABLED=0 $(GO) build -trimpath -o $(IMAGES)/imagearchive ./hack/imagearchive
	$(IMAGES)/imagearchive -image authstack -bin $(IMAGES)/authstack -name $(AUTHSTACK_IMAGE) -o $(IMAGES)/authstack.tar
	$(IMAGES)/imagearchive -image pause -bin $(IMAGES)/pause -name $(PAUSE_IMAGE) -o $(IMAGES)/pause.tar
	$(IMAGES)/imagearchive -image redis -name $(REDIS_IMAGE) -o $(IMAGES)/redis.tar
	$(IMAGES)/imagearchive -image loadgen -bin $(IMAGES)/loadgen -name $(LOADGEN_IMAGE) -o $(IMAGES)/loadgen.tar

.PHONY: run
run: ## Run the token server on the embedded in-memory store with the sample users (config/samples)
	$(GO) run . dev -f config/samples/

.PHONY: lint
lint: golangci-lint shellcheck ## gofmt, go vet, golangci-lint (.golangci.yml: kubebuilder's linters, revive, the import rules) and shellcheck
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path './bin/*')); \
	  if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GOLANGCI_LINT) run ./...

.PHONY: shellcheck
shellcheck: ## shellcheck hack/*.sh and .ci/run (installs shellcheck with apt-get when missing, as root)
	@hack/ensure-lint-deps.sh
	shellcheck hack/*.sh .ci/run

.PHONY: verify
verify: generate manifests chart-sync verify-modules verify-headers ## Fail when generated files (and the chart's copies of them) are stale or go.mod is not tidy (CI runs make lint verify)
	@git diff --exit-code -- api config charts || { echo "generated files are stale: run 'make generate manifests chart-sync' and commit"; exit 1; }
	@untracked=$$(git ls-files --others --exclude-standard -- api config charts); \
	  if [ -n "$$untracked" ]; then echo "untracked generated files: $$untracked"; exit 1; fi

.PHONY: verify-modules
verify-modules: ## Fail when go.mod or go.sum (the root's or hack/coredns's) is not tidy (go mod tidy -diff)
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy: run 'go mod tidy' and commit"; exit 1; }
	@cd hack/coredns && GOWORK=off $(GO) mod tidy -diff || { echo "hack/coredns's go.mod/go.sum are not tidy: run 'go mod tidy' there and commit"; exit 1; }

# Go files the license header is checked in and added to (default: all).
HEADERS_PATHS ?= .

.PHONY: headers
headers: ## Add the license header (hack/boilerplate.go.txt) to every Go file under HEADERS_PATHS that lacks it
	@hack/add-license-headers.sh $(HEADERS_PATHS)

.PHONY: verify-headers
verify-headers: ## Fail when a Go file under HEADERS_PATHS lacks the license header
	@hack/add-license-headers.sh --check $(HEADERS_PATHS)

.PHONY: chart-sync
chart-sync: manifests ## Copy the generated CRDs and manager ClusterRole into charts/authstack (verify fails on drift)
	@hack/sync-chart-crds.sh

##@ Testing

.PHONY: test-deps
test-deps: ## Install what the tests need (redis-server, curl, busybox-static) when it is missing
	@hack/ensure-test-deps.sh

.PHONY: test
test: test-deps node envtest helm prometheus image-archives ## Run every test with the race detector, against real Redis and a real kube-apiserver, then the e2e, then the chart on a real node
	KUBEBUILDER_ASSETS="$$(hack/setup-envtest.sh)" HELM="$$(hack/setup-helm.sh)" PROMTOOL="$$(hack/setup-prometheus.sh promtool)" PROMETHEUS="$$(hack/setup-prometheus.sh prometheus)" $(GO) test $(GOTEST_FLAGS) ./...
	@# Side by side: both mostly wait on real processes, and they share no
	@# port or path (the cluster lives in a network namespace of its own).
	$(MAKE) -j2 --output-sync=target test-e2e test-cluster

.PHONY: test-e2e
test-e2e: test-deps envtest ## End to end: kube-apiserver, kubectl, the manager and two token servers as processes, curl
	KUBEBUILDER_ASSETS="$$(hack/setup-envtest.sh)" CGO_ENABLED=0 $(GO) test -trimpath -tags e2e -count=1 -timeout 10m -v ./test/e2e/

.PHONY: test-cluster
test-cluster: test-deps envtest helm node prometheus image-archives ## The chart and kustomize installs on a real single-node cluster in a network namespace of its own (as root; docs/operations.md), scraped by a real Prometheus
	HELM="$$(hack/setup-helm.sh)" PROMETHEUS="$$(hack/setup-prometheus.sh prometheus)" CGO_ENABLED=0 $(GO) test -trimpath -tags cluster -count=1 -timeout 15m -v ./test/cluster/

.PHONY: envtest
envtest: ## Build kube-apiserver and etcd for envtest into bin/k8s (about 10 minutes the first time)
	@hack/setup-envtest.sh >/dev/null

.PHONY: node
node: ## Build kubelet, kube-controller-manager, kube-scheduler, kube-proxy, CoreDNS (and kube-apiserver, etcd when missing) into bin/k8s, install containerd, runc, CNI (minutes the first time: docs/operations.md)
	@hack/setup-node.sh >/dev/null

.PHONY: helm
helm: ## Build helm (pinned) from the Go module proxy into bin/ for the chart tests (about a minute the first time)
	@hack/setup-helm.sh >/dev/null

.PHONY: prometheus
prometheus: ## Build promtool and prometheus (pinned in hack/setup-prometheus.sh) from the Go module proxy into bin/, for the alerting-rule tests, and the Prometheus of internal/dashboard's test and the cluster test (about 4 minutes the first time)
	@hack/setup-prometheus.sh promtool >/dev/null

# The server runs as docs/operations.md recommends deploying it: with
# GODEBUG=madvdontneed=0, so freed argon2id blocks are not returned to the
# kernel and faulted back in on every hash (see docs/benchmarks.md).
BENCH_GODEBUG ?= madvdontneed=0

.PHONY: bench
bench: test-deps build ## Measure hashing, /token, bearer validation and the manager; prints figures for docs/benchmarks.md
	$(GO) test -run '^$$' -bench . -benchtime 2s ./internal/password/ ./resourceserver/accesstoken/ ./resourceserver/
	GODEBUG=$(BENCH_GODEBUG) $(GO) run ./hack/bench -binary $(BIN) -out bin/bench-report.md
	$(MAKE) bench-revocation
	$(MAKE) bench-controller

BENCH_REVOCATIONS ?= 1000
BENCH_MIRROR ?= 1000000

.PHONY: bench-revocation
bench-revocation: test-deps build ## Measure revocation: validation CPU with the mirror, propagation across 3 replicas, RSS with BENCH_MIRROR revoked jtis
	$(GO) run ./hack/benchrevocation -binary $(BIN) -revocations $(BENCH_REVOCATIONS) -mirror $(BENCH_MIRROR) -out bin/bench-revocation.md

BENCH_USERS ?= 2000

.PHONY: bench-controller
bench-controller: test-deps envtest build ## Measure the manager: kubectl apply of BENCH_USERS AuthUsers to all Ready, pre-hashed and plaintext
	KUBEBUILDER_ASSETS="$$(hack/setup-envtest.sh)" $(GO) run ./hack/benchcontroller -users $(BENCH_USERS) -binary $(BIN) | tee bin/bench-controller.md

SOAK_DURATION ?= 10m

.PHONY: soak
soak: test-deps build ## Soak (not in make test): 3 replicas for SOAK_DURATION at 80% of the capacity of the whole mix (logins, refreshes, /verify, revocations, user changes); fails on errors, RSS drift, Redis or mirror growth
	$(GO) run ./hack/soak -binary $(BIN) -duration $(SOAK_DURATION) -out bin/soak-report.md

.PHONY: dashboard-screenshot
dashboard-screenshot: test-deps build envtest prometheus ## Draw docs/images/dashboard.png: a 3-minute soak with the manager, scraped every 5s by a real Prometheus, its dashboard queries drawn by hack/dashshot (needs chromium)
	BIN=$(BIN) hack/dashboard-screenshot.sh

.PHONY: soak-overload
soak-overload: test-deps build ## Overload (not in make test): 8 × the /token capacity of 3 replicas from many users and addresses; fails on goodput, slow 503s, slow successes, memory growth or a refused concurrent user
	$(GO) run ./hack/soak -binary $(BIN) -overload -out bin/soak-overload-report.md

include hack/tools.mk
