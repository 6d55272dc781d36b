# Multi-stage build: a static binary on a distroless image, as non-root.
#
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) -t amslack .
#
# The image holds no configuration: mount yours at /etc/amslack/amslack.yml
# (with the secret files it names), and a volume at /var/lib/amslack.
FROM golang:1.26 AS build
# VERSION is what amslack --version and amslack_build_info report. Without
# it, the version comes from the git metadata in the build context, if any.
ARG VERSION=""
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags="-s -w -X github.com/prometheus/common/version.Version=${VERSION}" \
      -o /out/amslack ./cmd/amslack \
 && mkdir -p /out/var/lib/amslack

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/amslack /bin/amslack
# Outbox and state live here; mount a volume so nothing accepted is lost on
# a restart. Docker initialises a new volume with the ownership of the
# image's directory, so it must belong to distroless's nonroot user (uid
# 65532) for amslack to write to it.
COPY --from=build --chown=65532:65532 /out/var/lib/amslack /var/lib/amslack
VOLUME ["/var/lib/amslack"]
EXPOSE 9097
# Numeric, so that Kubernetes' runAsNonRoot can verify it.
USER 65532:65532
ENTRYPOINT ["/bin/amslack"]
CMD ["--config.file=/etc/amslack/amslack.yml", "--storage.path=/var/lib/amslack"]
