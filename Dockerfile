# syntax=docker/dockerfile:1
#
# The authstack image: one static binary on distroless, running as the
# nonroot user (UID 65532). The build stage runs exactly what `make build`
# runs (CGO_ENABLED=0, -trimpath), so the binary in the image is the one the
# tests exercise; test/image checks the binary is static and this file's
# final stage adds nothing but it.
#
#   make docker-build IMG=registry.example.com/authstack:dev

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN make build BIN=/out/authstack

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/authstack /authstack
USER 65532:65532
# Freed argon2id blocks stay mapped instead of being faulted back in on
# every hash (docs/benchmarks.md).
ENV GODEBUG=madvdontneed=0
ENTRYPOINT ["/authstack"]
