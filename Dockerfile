# Multi-stage build: a static binary on a distroless image, as non-root.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/amslack ./cmd/amslack

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/amslack /bin/amslack
COPY examples/demo.yml /etc/amslack/amslack.yml
# Outbox and state live here; mount a volume so nothing accepted is lost on
# a restart.
VOLUME ["/var/lib/amslack"]
EXPOSE 9097
USER nonroot:nonroot
ENTRYPOINT ["/bin/amslack"]
CMD ["--config.file=/etc/amslack/amslack.yml", "--storage.path=/var/lib/amslack"]
