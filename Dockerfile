# Image for `phonesignals` in docker-compose (production-like stack).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/phonesignals ./cmd/phonesignals

FROM gcr.io/distroless/static-debian12
COPY --from=build /out/phonesignals /usr/local/bin/phonesignals
ENTRYPOINT ["/usr/local/bin/phonesignals"]
