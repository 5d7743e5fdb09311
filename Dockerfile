# Static, non-root image of placement-scheduler.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X github.com/kube-placement/placement-scheduler/pkg/version.Version=${VERSION} -X k8s.io/component-base/version.gitVersion=v1.37.1 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37" \
    -o /out/placement-scheduler ./cmd/placement-scheduler

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/placement-scheduler /usr/local/bin/placement-scheduler
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/placement-scheduler"]
