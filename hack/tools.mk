# hack/tools.mk - code generation and lint tooling for authstack.
# Included from the top-level Makefile:  include hack/tools.mk
# Paths are relative to the repository root (run make from there).

##@ Code generation

## Location to install tool binaries to
LOCALBIN ?= $(shell pwd)/bin

## Tool versions
CONTROLLER_TOOLS_VERSION ?= v0.23.0
GOLANGCI_LINT_VERSION ?= v2.15.0

## Tool binaries
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)

## Packages `make manifests` scans for CRD/RBAC/webhook markers: the API types
## and the manager's controllers (the kubebuilder v3 layout PROJECT declares).
## Not ./... so that packages elsewhere in the tree that do not compile cannot
## break CRD generation. Override with e.g. MANIFESTS_PATHS=./...
MANIFESTS_PATHS ?= ./api/...;./controllers/...

.PHONY: generate
generate: controller-gen ## Generate deepcopy code (DeepCopy, DeepCopyInto, DeepCopyObject) for ./api/...
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: manifests
manifests: controller-gen ## Generate CRDs (config/crd/bases) and RBAC (config/rbac, from +kubebuilder:rbac markers)
	$(CONTROLLER_GEN) rbac:roleName=authstack-manager crd webhook paths="$(MANIFESTS_PATHS)" output:crd:artifacts:config=config/crd/bases

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN) ## Download controller-gen locally if necessary.

$(LOCALBIN):
	mkdir -p "$(LOCALBIN)"

$(CONTROLLER_GEN): | $(LOCALBIN)
	$(call go-install-tool,$(CONTROLLER_GEN),sigs.k8s.io/controller-tools/cmd/controller-gen,$(CONTROLLER_TOOLS_VERSION))

##@ Lint tooling

.PHONY: golangci-lint
golangci-lint: $(GOLANGCI_LINT) ## Build golangci-lint (pinned) into bin/ if necessary (about two minutes the first time)

$(GOLANGCI_LINT): | $(LOCALBIN)
	$(call go-install-tool,$(GOLANGCI_LINT),github.com/golangci/golangci-lint/v2/cmd/golangci-lint,$(GOLANGCI_LINT_VERSION))

.PHONY: lint-fix
lint-fix: golangci-lint ## Run golangci-lint and apply the fixes it can (formatting, imports, some staticcheck quick fixes)
	$(GOLANGCI_LINT) run --fix ./...

.PHONY: lint-config
lint-config: golangci-lint ## Check .golangci.yml against the pinned golangci-lint's schema
	$(GOLANGCI_LINT) config verify

# go-install-tool will 'go install' any package with custom target and name of binary, if it doesn't exist
# $1 - target path with name of binary (ideally with version)
# $2 - package url which can be installed
# $3 - specific version of package
define go-install-tool
@[ -f "$(1)" ] || { \
set -e; \
package=$(2)@$(3) ;\
echo "Downloading $${package}" ;\
GOBIN="$(LOCALBIN)" go install $${package} ;\
mv "$$(echo "$(1)" | sed "s/-$(3)$$//")" "$(1)" ;\
}
endef
