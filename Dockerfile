# Static, non-root image of placement-scheduler. Build it with `make image`,
# which passes our version and commit; the Kubernetes version comes from
# go.mod through the Makefile, as for every other build.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=
ARG COMMIT=
RUN CGO_ENABLED=0 GOFLAGS=-trimpath make scheduler BIN=/out COMMIT="${COMMIT}" EXTRA_LDFLAGS="-s -w" \
    $([ -n "${VERSION}" ] && echo VERSION="${VERSION}") \
 && /out/placement-scheduler --version

FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=
ARG COMMIT=
# The labels hack/image (make image-oci) gives the daemonless image.
LABEL org.opencontainers.image.title="placement-scheduler" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}" \
      org.opencontainers.image.source="https://github.com/kube-placement/placement-scheduler" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /out/placement-scheduler /usr/local/bin/placement-scheduler
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/placement-scheduler"]
